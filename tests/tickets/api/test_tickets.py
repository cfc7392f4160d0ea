"""GET/POST /api/v1/tickets/ and GET/PATCH /api/v1/tickets/<number>/: creating on behalf
of a customer, filters, pagination, visibility."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.models import Delivery
from tests.factories import AgentFactory, CustomerFactory, TeamFactory, TicketFactory
from tickets.models import Direction, Message, Tag, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(agent, token_client):
    return token_client(agent, "tickets:read")


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "tickets:read", "tickets:write")


@pytest.mark.parametrize("channel", ["phone", "web", "api"])
def test_a_ticket_on_behalf_of_a_customer_records_their_inbound_message(writer, channel):
    response = writer.post(
        "/api/v1/tickets/",
        {"customer": {"email": "kim@example.com", "phone": "+14155550100", "name": "Kim"},
         "subject": "Broken lamp", "text": "The shade arrived cracked.", "channel": channel},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(number=response.json()["number"])
    message = Message.objects.get(ticket=ticket)
    assert (message.direction, message.channel, message.is_internal) == (
        Direction.INBOUND, channel, False,
    )  # fmt: skip
    # The customer wrote it, from the identity the channel uses (phone for a call).
    expected_kind = "phone" if channel == "phone" else "email"
    assert message.author_identity.kind == expected_kind
    assert message.author_identity.customer_id == ticket.customer_id
    assert ticket.last_inbound_at == message.created_at and ticket.first_response_at is None
    assert not Delivery.objects.exists()
    # The timeline says who recorded it: the token's owner, through the API.
    created = TicketEvent.objects.get(ticket=ticket, kind="created")
    assert created.actor.username == "alex" and created.data["via"] == "api"


def test_an_email_ticket_still_sends_its_first_message(writer):
    response = writer.post(
        "/api/v1/tickets/",
        {"customer": {"email": "kim@example.com"}, "subject": "Your order", "text": "Shipped.",
         "channel": "email"},
        format="json",
    )  # fmt: skip

    message = Message.objects.get(ticket__number=response.json()["number"])
    assert message.direction == Direction.OUTBOUND and Delivery.objects.filter(message=message)


def test_a_ticket_for_another_teams_customer_is_refused(teams, token_client):
    rita = token_client(teams["rita"], "tickets:read", "tickets:write")

    response = rita.post(
        "/api/v1/tickets/",
        {"customer": {"id": teams["theirs"].customer_id}, "subject": "x", "text": "y",
         "channel": "phone"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400 and "customer" in response.json()["error"]["fields"]
    assert Ticket.objects.count() == 2


def test_another_teams_ticket_is_404_to_read_change_and_reply(teams, token_client):
    rita = token_client(teams["rita"], "tickets:read", "tickets:write")
    url = f"/api/v1/tickets/{teams['theirs'].number}/"

    answers = [
        rita.get(url),
        rita.patch(url, {"priority": "urgent"}, format="json"),
        rita.post(f"{url}replies/", {"body_text": "hi", "is_internal": True}, format="json"),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.json()["error"]["code"] for a in answers} == {"not_found"}
    assert rita.get(f"/api/v1/tickets/{teams['mine'].number}/").status_code == 200


def _ticket(**fields):
    return TicketFactory(**fields)


def test_it_filters_on_every_documented_field(reader, other_agent):
    team = TeamFactory(name="Billing")
    dana = CustomerFactory(name="Dana")
    vip, _ = Tag.objects.get_or_create(name="vip")
    match = _ticket(
        status="open", priority="high", channel="sms", team=team, assignee=other_agent,
        customer=dana,
    )  # fmt: skip
    match.tags.add(vip)
    _ticket(status="open", priority="low", channel="email")
    _ticket(status="solved", priority="high", channel="sms", team=team)
    now = timezone.now()
    old = _ticket(status="open")
    Ticket.objects.filter(pk=old.pk).update(
        created_at=now - timedelta(days=30), updated_at=now - timedelta(days=20)
    )

    def numbers(**params):
        response = reader.get("/api/v1/tickets/", params)
        assert response.status_code == 200, response.json()
        return {t["number"] for t in response.json()["results"]}

    assert numbers(status="open", priority="high") == {match.number}
    assert numbers(channel="sms", team=team.pk, status=["open", "pending"]) == {match.number}
    assert numbers(assignee=other_agent.pk) == {match.number}
    assert numbers(tag="vip") == {match.number}
    assert numbers(customer=dana.pk) == {match.number}
    assert numbers(created_before=(now - timedelta(days=1)).isoformat()) == {old.number}
    assert numbers(updated_before=(now - timedelta(days=10)).isoformat()) == {old.number}
    assert old.number not in numbers(updated_after=(now - timedelta(days=10)).isoformat())
    assert old.number not in numbers(created_after=(now - timedelta(days=10)).isoformat())
    assert match.number not in numbers(unassigned="true")


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "opened"}, "status"),
        ({"priority": "extreme"}, "priority"),
        ({"channel": "fax"}, "channel"),
        ({"team": "billing"}, "team"),
        ({"assignee": "alex"}, "assignee"),
        ({"customer": "dana"}, "customer"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"updated_before": "9999-12-31T23:59:59Z"}, "updated_before"),
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"stauts": "open"}, "stauts"),
    ],
)
def test_a_bad_filter_is_400_in_the_error_shape_naming_it(reader, params, field):
    response = reader.get("/api/v1/tickets/", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert field in error["fields"], error


def test_pages_stay_stable_when_tickets_are_added_between_them(reader):
    made = [_ticket(status="open") for _ in range(5)]

    first = reader.get("/api/v1/tickets/", {"limit": 2}).json()
    _ticket(status="open")  # updated now: sorts before every page already handed out
    second = reader.get("/api/v1/tickets/", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = reader.get("/api/v1/tickets/", {"limit": 2, "cursor": second["next_cursor"]}).json()

    seen = [t["number"] for page in (first, second, third) for t in page["results"]]
    assert sorted(seen) == sorted(t.number for t in made) and len(set(seen)) == 5
    assert third["next_cursor"] is None


def test_a_filtered_list_costs_the_same_queries_for_3_or_40_tickets(
    reader, agent, django_assert_max_num_queries
):
    team = TeamFactory()
    for _ in range(3):
        _ticket(team=team, assignee=agent, status="open")
    reader.get("/api/v1/tickets/")  # the token's last use is written on the first call
    url = f"/api/v1/tickets/?status=open&team={team.pk}&created_after=2000-01-01T00:00:00Z"
    with CaptureQueriesContext(connection) as few:
        reader.get(url)
    for _ in range(37):
        _ticket(team=team, assignee=AgentFactory(), status="open")

    with django_assert_max_num_queries(len(few)):
        body = reader.get(f"{url}&limit=100").json()
    assert len(body["results"]) == 40


def test_reading_a_ticket_shows_its_messages_with_their_attachments(writer, agent):
    ticket = _ticket(status="open")
    Message.objects.create(ticket=ticket, channel="email", direction="inbound", body_text="Hi")

    body = writer.get(f"/api/v1/tickets/{ticket.number}/").json()

    assert [m["body_text"] for m in body["messages"]] == ["Hi"]
    assert body["messages"][0]["attachments"] == []


def test_listing_needs_the_read_scope(agent, token_client):
    client = token_client(agent, "customers:read")

    response = client.get("/api/v1/tickets/")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "missing_scope",
        "message": "The API token lacks the scope `tickets:read`.",
    }


def test_q_searches_subjects_and_messages(reader):
    lamp = _ticket(subject="Broken lamp shade")
    _ticket(subject="Invoice copy")

    found = reader.get("/api/v1/tickets/", {"q": "lamp"}).json()["results"]

    assert [t["number"] for t in found] == [lamp.number]


def test_the_recorded_message_shows_on_the_agent_page_as_the_customers(writer, agent, client):
    number = writer.post(
        "/api/v1/tickets/",
        {"customer": {"phone": "+14155550100", "name": "Kim"}, "subject": "Lamp",
         "text": "The shade arrived cracked.", "channel": "phone"},
        format="json",
    ).json()["number"]  # fmt: skip
    client.force_login(agent)

    page = client.get(f"/agent/tickets/{number}/")

    assert page.status_code == 200
    assert "The shade arrived cracked." in page.content.decode()


def test_a_light_agents_token_may_not_change_fields(token_client):
    light = AgentFactory(role="Light agents")
    team = TeamFactory()
    team.members.add(light)
    ticket = TicketFactory(team=team, status="open")
    client = token_client(light, "tickets:read", "tickets:write")

    response = client.patch(
        f"/api/v1/tickets/{ticket.number}/", {"status": "pending"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
