import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from helpdesk.roles import LEADS_GROUP
from tests.factories import TeamFactory, TicketFactory
from tickets.integrations.tokens import api_token_create
from tickets.models import EventKind, Priority, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(agent):
    new = api_token_create(owner=agent, name="CRM", scopes=["tickets:read", "tickets:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
    return client


def _patch(client, ticket, body):
    return client.patch(f"/api/v1/tickets/{ticket.number}/", body, format="json")


def test_it_changes_status_priority_assignee_team_subject_and_tags(writer, agent, other_agent):
    agent.groups.add(Group.objects.get(name=LEADS_GROUP))  # assigns to someone else
    team = TeamFactory(name="Billing")
    ticket = TicketFactory(status=Status.OPEN, priority=Priority.NORMAL)

    response = _patch(
        writer,
        ticket,
        {
            "status": "pending",
            "priority": "high",
            "assignee": "sam",
            "team": "Billing",
            "subject": "Refund for order 77",
            "add_tags": ["vip", "refund"],
        },
    )
    by_id = _patch(writer, ticket, {"team": str(team.pk), "assignee": str(other_agent.pk)})
    set_tags = _patch(writer, ticket, {"tags": ["refund", "late"]})
    cleared = _patch(writer, ticket, {"assignee": None, "team": None, "remove_tags": ["late"]})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["priority"], body["assignee"], body["team"]) == (
        "pending", "high", "sam", "Billing",
    )  # fmt: skip
    assert body["subject"] == "Refund for order 77" and sorted(body["tags"]) == ["refund", "vip"]
    assert by_id.status_code == 200 and by_id.json()["assignee"] == "sam"
    assert sorted(set_tags.json()["tags"]) == ["late", "refund"]
    assert cleared.json()["assignee"] is None and cleared.json()["team"] is None
    assert cleared.json()["tags"] == ["refund"]
    events = TicketEvent.objects.filter(ticket=ticket)
    assert {e.kind for e in events} >= {
        EventKind.STATUS, EventKind.PRIORITY, EventKind.ASSIGNED, EventKind.TEAM,
        EventKind.SUBJECT, EventKind.TAGS,
    }  # fmt: skip
    assert all(e.actor == agent and e.data.get("via") == "api" for e in events)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"status": "lost"}, "status"),
        ({"assignee": "nobody"}, "assignee"),
        ({"team": "Nowhere"}, "team"),
        ({}, "non_field_errors"),
        ({"tags": ["a"], "add_tags": ["b"]}, "non_field_errors"),
    ],
)
def test_it_refuses_bad_changes_with_400_naming_the_field(writer, body, field):
    ticket = TicketFactory(status=Status.OPEN)

    response = _patch(writer, ticket, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN


def test_an_invalid_transition_is_400_with_a_code_and_changes_nothing(writer):
    ticket = TicketFactory(status=Status.CLOSED, priority=Priority.NORMAL)

    response = _patch(writer, ticket, {"priority": "high", "status": "open"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] and response.json()["error"]["message"]
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.NORMAL


def test_it_needs_the_write_scope_and_an_existing_ticket(agent, writer):
    reader = api_token_create(owner=agent, name="ro", scopes=["tickets:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {reader.secret}")
    ticket = TicketFactory()

    refused = _patch(client, ticket, {"priority": "high"})
    missing = writer.patch("/api/v1/tickets/999999/", {"priority": "high"}, format="json")
    anonymous = _patch(APIClient(), ticket, {"priority": "high"})

    assert refused.status_code == 403 and "`tickets:write`" in refused.json()["error"]["message"]
    assert missing.status_code == 404
    assert anonymous.status_code == 401
