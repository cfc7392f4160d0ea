import pytest
from django.apps import apps
from django.contrib import admin

from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

OUR_APPS = ("tickets", "channels_app")
# Per-agent read marks: written by page views, nothing an admin configures or inspects.
BOOKKEEPING = {"TicketRead"}
# Edited by a field grid on their parent's form rather than an inline.
ON_PARENT_FORM = {"BusinessInterval"}  # the business-hours page's week grid


def test_it_registers_every_model_of_ours_in_the_admin():
    # A model edited only as an inline of its parent (a calendar's holidays) counts.
    inlined = {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in getattr(model_admin, "inlines", [])
    }
    missing = [
        model.__name__
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry
        and model not in inlined
        and model.__name__ not in BOOKKEEPING | ON_PARENT_FORM
    ]

    assert missing == []


def test_it_renders_every_changelist_with_search_and_filters(admin_client, ingest):
    ingest(external_id="1")
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

        response = admin_client.get(url, {"q": "dana"})

        assert response.status_code == 200, url


def test_it_keeps_agents_out_of_the_admin_even_as_staff(client):
    staff_agent = AgentFactory(is_staff=True)
    client.force_login(staff_agent)

    response = client.get("/admin/tickets/ticket/")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def _ticket_form(ticket, **changes):
    data = {
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "team": ticket.team_id or "",
        "assignee": ticket.assignee_id or "",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_it_edits_a_ticket_in_the_admin_through_the_services(admin_client, ingest):
    from tickets.models import EventKind, TicketEvent

    ticket = ingest(external_id="1").ticket
    agent = AgentFactory()
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"

    response = admin_client.post(
        url, _ticket_form(ticket, status="pending", priority="high", assignee=agent.pk)
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("pending", "high", agent)
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {EventKind.STATUS, EventKind.PRIORITY, EventKind.ASSIGNED} <= kinds


def test_it_shows_the_rules_on_the_admin_form(admin_client, ingest, django_user_model):
    ticket = ingest(external_id="1").ticket
    outsider = django_user_model.objects.create_user("outsider")

    response = admin_client.post(
        f"/admin/tickets/ticket/{ticket.pk}/change/", _ticket_form(ticket, assignee=outsider.pk)
    )

    assert response.status_code == 200
    assert "Tickets can only be assigned to agents." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_it_offers_no_ticket_add_form(admin_client):
    assert admin_client.get("/admin/tickets/ticket/add/").status_code == 403


def test_it_normalizes_an_identity_typed_in_the_admin(admin_client, ingest):
    from tickets.models import ContactIdentity

    customer = ingest(external_id="1").ticket.customer
    form = {"customer": customer.pk, "kind": "phone", "display_name": "", "opted_out_at": ""}

    ok = admin_client.post(
        "/admin/tickets/contactidentity/add/", {**form, "value": "(415) 555-0123"}
    )
    bad = admin_client.post("/admin/tickets/contactidentity/add/", {**form, "value": "call me"})

    assert ok.status_code == 302
    assert ContactIdentity.objects.filter(kind="phone", value="+14155550123").exists()
    assert bad.status_code == 200 and "is not a phone number" in bad.content.decode()
