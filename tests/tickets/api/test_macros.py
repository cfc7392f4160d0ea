"""GET /api/v1/macros/ and POST /api/v1/tickets/<number>/macros/<id>/apply/."""

import pytest

from channels_app.models import Delivery
from tests.factories import AgentFactory, IdentityFactory, TeamFactory, TicketFactory
from tickets.models import IdentityKind, Macro, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "tickets:read", "tickets:write")


@pytest.fixture
def ticket():
    ticket = TicketFactory(status="open")
    ticket.customer.name = "Dana Smith"
    ticket.customer.save()
    IdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="dana@example.com")
    return ticket


@pytest.fixture
def refund():
    return Macro.objects.create(
        name="Refund sent",
        body="Hi {{ customer.first_name }}, your refund for #{{ ticket.number }} is on its way.",
        set_status="pending",
        set_team=TeamFactory(name="Billing"),
        add_tags="refund, vip",
    )


def test_it_lists_shared_macros_and_the_owners_own(writer, agent, refund):
    # The automation defaults' reminder macros ship with every install (a migration).
    shipped = set(Macro.objects.exclude(pk=refund.pk).values_list("pk", flat=True))
    mine = Macro.objects.create(name="Mine", body="x", owner=agent)
    Macro.objects.create(name="Sam's", body="x", owner=AgentFactory())
    Macro.objects.create(name="Old", body="x", is_active=False)

    body = writer.get("/api/v1/macros/").json()

    results = [m for m in body["results"] if m["id"] not in shipped]
    listed = [(m["id"], m["shared"]) for m in results]
    assert listed == [(refund.pk, True), (mine.pk, False)]
    assert results[0] | {"created_at": None} == {
        "id": refund.pk, "name": "Refund sent", "body": refund.body, "shared": True,
        "set_status": "pending", "set_priority": None, "set_team": "Billing",
        "set_assignee": None, "add_tags": ["refund", "vip"], "created_at": None,
    }  # fmt: skip


def test_the_list_pages_and_costs_the_same_queries_for_2_or_30(writer, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    shipped = Macro.objects.count()  # the automation defaults' reminder macros
    team = TeamFactory()
    for i in range(2):
        Macro.objects.create(name=f"few {i}", body="x", set_team=team, set_assignee=agent)
    writer.get("/api/v1/macros/")
    with CaptureQueriesContext(connection) as few:
        writer.get("/api/v1/macros/")
    for i in range(28):
        Macro.objects.create(name=f"many {i}", body="x", set_team=team, set_assignee=agent)

    with CaptureQueriesContext(connection) as many:
        body = writer.get("/api/v1/macros/").json()
    first = writer.get("/api/v1/macros/", {"limit": 20}).json()
    rest = writer.get("/api/v1/macros/", {"limit": 20, "cursor": first["next_cursor"]}).json()

    assert len(body["results"]) == 30 + shipped and len(many) == len(few)
    assert (
        len(first["results"]) + len(rest["results"]) == 30 + shipped and rest["next_cursor"] is None
    )
    assert writer.get("/api/v1/macros/", {"sort": "name"}).status_code == 400


def test_applying_changes_the_fields_and_answers_the_rendered_text(writer, ticket, refund):
    response = writer.post(f"/api/v1/tickets/{ticket.number}/macros/{refund.pk}/apply/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["text"] == f"Hi Dana, your refund for #{ticket.number} is on its way."
    assert (body["ticket"]["status"], body["ticket"]["team"], body["ticket"]["tags"]) == (
        "pending", "Billing", ["refund", "vip"],
    )  # fmt: skip
    assert body["message"] is None and not Message.objects.filter(ticket=ticket).exists()


def test_applying_with_a_public_reply_sends_the_text(writer, ticket, refund):
    response = writer.post(
        f"/api/v1/tickets/{ticket.number}/macros/{refund.pk}/apply/",
        {"reply": "public"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    message = Message.objects.get(ticket=ticket)
    assert not message.is_internal and message.body_text.startswith("Hi Dana")
    assert response.json()["message"]["id"] == message.pk
    assert Delivery.objects.filter(message=message).exists()
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"


def test_another_agents_macro_or_an_unknown_one_is_404(writer, ticket):
    theirs = Macro.objects.create(name="Sam's", body="x", owner=AgentFactory(), set_status="solved")

    for macro_id in (theirs.pk, 999999):
        response = writer.post(f"/api/v1/tickets/{ticket.number}/macros/{macro_id}/apply/")
        assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_a_bad_reply_choice_is_400_and_changes_nothing(writer, ticket, refund):
    response = writer.post(
        f"/api/v1/tickets/{ticket.number}/macros/{refund.pk}/apply/",
        {"reply": "loud"},
        format="json",
    )

    assert response.status_code == 400 and "reply" in response.json()["error"]["fields"]
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_a_light_agent_may_not_apply_a_macro_that_changes_fields(token_client, ticket, refund):
    light = AgentFactory(role="Light agents")
    team = TeamFactory(name="Light")
    team.members.add(light)
    Ticket.objects.filter(pk=ticket.pk).update(team=team)  # a ticket they may see
    client = token_client(light, "tickets:read", "tickets:write")

    response = client.post(f"/api/v1/tickets/{ticket.number}/macros/{refund.pk}/apply/")

    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_a_refused_change_rolls_the_reply_back(writer, ticket):
    closed = TicketFactory(status="closed", customer=ticket.customer)
    reopen = Macro.objects.create(name="Reopen", body="Back again", set_status="open")

    response = writer.post(
        f"/api/v1/tickets/{closed.number}/macros/{reopen.pk}/apply/",
        {"reply": "internal"},
        format="json",
    )

    assert response.status_code == 400
    assert not Message.objects.filter(ticket=closed).exists()
