"""GET /api/v1/tickets/<number>/timeline/: messages and events interleaved, keyset pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import IdentityFactory, TicketFactory
from tickets.models import Channel, Direction, EventKind, IdentityKind, Message, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(agent, token_client):
    return token_client(agent, "tickets:read")


def _message(ticket, at, text, *, internal=False, author=None):
    return Message.objects.create(
        ticket=ticket, channel=Channel.EMAIL, body_text=text, is_internal=internal,
        direction=Direction.OUTBOUND if author else Direction.INBOUND, author_user=author,
        author_identity=None if author else ticket.customer.identities.first(), created_at=at,
    )  # fmt: skip


def _event(ticket, at, kind=EventKind.STATUS, actor=None):
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, data={"from": "new", "to": "open"}, created_at=at
    )


@pytest.fixture
def story(agent):
    """A question, a status change and the reply at one instant, an internal note."""
    ticket = TicketFactory()
    IdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="t@example.com")
    TicketEvent.objects.filter(ticket=ticket).delete()
    t0 = timezone.now() - timedelta(hours=1)
    entries = [
        _message(ticket, t0, "Where is my parcel?"),
        _event(ticket, t0 + timedelta(minutes=5), actor=agent),
        _message(ticket, t0 + timedelta(minutes=5), "It ships today.", author=agent),
        _message(ticket, t0 + timedelta(minutes=6), "Ask the carrier", internal=True, author=agent),
    ]  # fmt: skip
    return ticket, entries


def _keys(body):
    return [(e["type"], e["id"]) for e in body["results"]]


def _expected(entries):
    return [("event" if isinstance(e, TicketEvent) else "message", e.pk) for e in entries]


def test_it_interleaves_messages_and_events_oldest_first(reader, story):
    ticket, entries = story

    body = reader.get(f"/api/v1/tickets/{ticket.number}/timeline/").json()

    assert _keys(body) == _expected(entries) and body["next_cursor"] is None
    event, reply = body["results"][1], body["results"][2]
    assert (event["kind"], event["actor"], event["details"]) == (
        "status", "alex", {"from": "new", "to": "open"},
    )  # fmt: skip
    assert reply["author"] == {"agent": "alex"} and reply["updated_at"] == reply["created_at"]
    assert body["results"][0]["author"]["customer"] == ticket.customer_id


def test_public_only_leaves_internal_notes_out(reader, story):
    ticket, entries = story

    body = reader.get(f"/api/v1/tickets/{ticket.number}/timeline/", {"public_only": "true"})

    assert _keys(body.json()) == _expected(entries[:3])


def test_pages_are_stable_while_entries_arrive(reader, story):
    ticket, entries = story
    url = f"/api/v1/tickets/{ticket.number}/timeline/"

    first = reader.get(url, {"limit": 2}).json()
    # Lands at the same instant as the second entry, after it in the sort: next page.
    late = _message(ticket, entries[1].created_at, "Also: wrong address")
    rest = reader.get(url, {"limit": 2, "cursor": first["next_cursor"]}).json()
    last = reader.get(url, {"limit": 2, "cursor": rest["next_cursor"]}).json()

    seen = _keys(first) + _keys(rest) + _keys(last)
    same_instant = sorted([entries[2].pk, late.pk])
    expected = [*_expected(entries[:2]), *[("message", pk) for pk in same_instant]]
    assert seen == [*expected, *_expected(entries[3:])]
    assert last["next_cursor"] is None


def test_a_page_costs_the_same_queries_for_4_or_40_entries(reader, story, agent):
    ticket, _ = story
    url = f"/api/v1/tickets/{ticket.number}/timeline/"
    reader.get(url)
    with CaptureQueriesContext(connection) as few:
        reader.get(url)
    at = timezone.now()
    for i in range(18):
        _message(ticket, at + timedelta(seconds=i), f"m{i}", author=agent)
        _event(ticket, at + timedelta(seconds=i), actor=agent)

    with CaptureQueriesContext(connection) as many:
        body = reader.get(url, {"limit": 100}).json()

    assert len(body["results"]) == 40 and len(many) == len(few)


@pytest.mark.parametrize(
    "params,field",
    [({"cursor": "bm9wZQ"}, "cursor"), ({"limit": "500"}, "limit"), ({"sort": "x"}, "sort"),
     ({"public_only": "maybe"}, "public_only")],
)  # fmt: skip
def test_a_bad_parameter_is_400(reader, story, params, field):
    ticket, _ = story

    response = reader.get(f"/api/v1/tickets/{ticket.number}/timeline/", params)

    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_another_teams_ticket_is_404(teams, token_client):
    rita = token_client(teams["rita"], "tickets:read")

    response = rita.get(f"/api/v1/tickets/{teams['theirs'].number}/timeline/")

    assert response.status_code == 404
