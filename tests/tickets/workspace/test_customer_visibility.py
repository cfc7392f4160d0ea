"""Customers follow ticket visibility (docs/access.md): a team-scoped agent sees only
customers with a ticket they can see, on every customer page under /agent/customers/, the
queue's customer filter and the sidebar's ratings; other customers are a 404."""

from typing import Any

import pytest
from django.test import Client

from tests.factories import (
    AgentFactory,
    CustomerFactory,
    IdentityFactory,
    TeamFactory,
    TicketFactory,
)
from tickets.models import AgentPreference, Customer, SatisfactionRating, Status, TicketScope
from tickets.visibility import customers_visible_to

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def world() -> dict[str, Any]:
    ours, theirs = TeamFactory(name="Ours"), TeamFactory(name="Theirs")
    agent = AgentFactory(username="rita")
    ours.members.add(agent)
    AgentPreference.objects.create(user=agent, ticket_scope=TicketScope.TEAMS)
    seen = CustomerFactory(name="Vera Visible")
    IdentityFactory(customer=seen, value="vera@example.com")
    hidden = CustomerFactory(name="Hugo Hidden")
    IdentityFactory(customer=hidden, value="hugo@example.com")
    ticket = TicketFactory(team=ours, customer=seen)
    # Vera also wrote to the other team: that ticket and its rating stay out of sight.
    elsewhere = TicketFactory(team=theirs, customer=seen, status=Status.SOLVED)
    SatisfactionRating.objects.create(ticket=elsewhere, customer=seen, score=1, comment="Awful")
    TicketFactory(team=theirs, customer=hidden)
    client = Client()
    client.force_login(agent)
    return {"agent": agent, "seen": seen, "hidden": hidden, "ticket": ticket, "client": client}


def test_the_selector_keeps_customers_with_a_visible_ticket(world: dict) -> None:
    assert list(customers_visible_to(world["agent"])) == [world["seen"]]
    assert customers_visible_to(AgentFactory()).count() == 2  # every ticket: every customer


def test_the_customer_type_ahead_lists_only_visible_customers(world: dict) -> None:
    page = world["client"].get("/agent/customers/suggest/", {"q": "H"}).content.decode()
    assert "Hugo" not in page
    page = world["client"].get("/agent/customers/suggest/", {"q": "hugo@example.com"})
    assert "Hugo" not in page.content.decode()
    page = world["client"].get("/agent/customers/suggest/", {"q": "Vera"}).content.decode()
    assert "Vera Visible" in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("edit/", {"name": "Renamed", "notes": ""}),
        ("identities/", {"kind": "email", "value": "new@example.com"}),
        ("portal-sign-out/", {}),
        ("merge/", {"source": "0"}),
    ],
)
def test_customer_writes_404_on_a_customer_out_of_sight(world: dict, path: str, data: dict) -> None:
    client = world["client"]
    assert client.post(f"/agent/customers/{world['hidden'].pk}/{path}", data).status_code == 404
    hidden = Customer.objects.get(pk=world["hidden"].pk)
    assert hidden.name == "Hugo Hidden" and hidden.identities.count() == 1


def test_customer_edits_still_work_on_a_visible_customer(world: dict) -> None:
    url = f"/agent/customers/{world['seen'].pk}/edit/"
    assert world["client"].post(url, {"name": "Vera V.", "notes": ""}).status_code == 302
    assert Customer.objects.get(pk=world["seen"].pk).name == "Vera V."


def test_the_merge_page_offers_and_takes_only_visible_customers(world: dict) -> None:
    client, seen, hidden = world["client"], world["seen"], world["hidden"]
    assert client.get(f"/agent/customers/{hidden.pk}/merge/").status_code == 404
    page = client.get(f"/agent/customers/{seen.pk}/merge/", {"q": "example.com"}).content.decode()
    assert "Hugo" not in page
    response = client.post(
        f"/agent/customers/{seen.pk}/merge/", {"source": str(hidden.pk)}, follow=True
    )
    assert "Pick the customer to merge" in response.content.decode()
    assert Customer.objects.get(pk=hidden.pk).merged_into_id is None


def test_the_queue_filter_does_not_name_a_customer_out_of_sight(world: dict) -> None:
    client = world["client"]
    page = client.get("/agent/", {"view": "all", "customer": world["hidden"].pk}).content.decode()
    assert "Hugo" not in page and "hugo@example.com" not in page
    page = client.get("/agent/", {"view": "all", "customer": world["seen"].pk}).content.decode()
    assert "vera@example.com" in page


def test_the_sidebar_shows_ratings_of_visible_tickets_only(world: dict) -> None:
    page = world["client"].get(f"/agent/tickets/{world['ticket'].number}/").content.decode()
    assert "Awful" not in page and "No ratings yet." in page
