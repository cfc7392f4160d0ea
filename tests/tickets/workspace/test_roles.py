"""Roles beyond Agents and Admins (helpdesk.setup, docs/access.md): a light agent reads
its teams' tickets and adds internal notes only; a lead holds the reporting and
management permissions."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from helpdesk.roles import LEADS_GROUP, LIGHT_AGENTS_GROUP, is_agent
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import Message

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def light() -> tuple[Any, Any]:
    team = TeamFactory()
    user = AgentFactory(username="lee", role=LIGHT_AGENTS_GROUP)
    team.members.add(user)
    return user, TicketFactory(team=team, status="open")


def test_a_light_agent_sees_only_its_teams_tickets(light: tuple) -> None:
    user, ticket = light
    other = TicketFactory()
    client = Client()
    client.force_login(user)
    assert is_agent(user)
    assert client.get(f"/agent/tickets/{ticket.number}/").status_code == 200
    assert client.get(f"/agent/tickets/{other.number}/").status_code == 404


def test_a_light_agent_is_offered_the_internal_note_only(light: tuple) -> None:
    user, ticket = light
    client = Client()
    client.force_login(user)
    page = client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert 'value="note"' in page and "your role adds notes" in page
    assert 'id="kind-reply"' not in page and 'id="composer-channel"' not in page


def test_an_agent_is_offered_a_reply_on_every_channel_that_sends(light: tuple) -> None:
    ticket = light[1]
    client = Client()
    client.force_login(AgentFactory(username="ana"))
    page = client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    assert 'id="kind-reply"' in page
    for value in ("email", "sms", "chat"):
        assert f'<option value="{value}"' in page
    assert '<option value="web"' not in page  # inbound only


def test_a_light_agent_adds_notes_but_no_public_replies_on_the_api(light: tuple) -> None:
    user, ticket = light
    api = APIClient()
    api.force_authenticate(user)
    url = f"/api/v1/tickets/{ticket.number}/replies/"
    refused = api.post(url, {"body_text": "hello", "is_internal": False}, format="json")
    assert refused.status_code == 403
    assert "notes only" in refused.json()["error"]["message"]
    assert (
        api.post(url, {"body_text": "a note", "is_internal": True}, format="json").status_code
        == 201
    )
    assert list(ticket.messages.values_list("body_text", "is_internal")) == [("a note", True)]


def test_a_light_agent_cannot_reply_publicly_or_change_fields_in_the_workspace(
    light: tuple,
) -> None:
    user, ticket = light
    client = Client()
    client.force_login(user)
    url = f"/agent/tickets/{ticket.number}/"
    response = client.post(url + "reply/", {"body": "hello", "kind": "reply"})
    assert response.status_code == 400
    assert not Message.objects.filter(ticket=ticket).exists()
    client.post(url + "update/", {"field": "priority", "value": "urgent"})
    ticket.refresh_from_db()
    assert ticket.priority != "urgent"


def test_an_agent_still_replies_and_changes_fields(light: tuple) -> None:
    _, ticket = light
    client = Client()
    client.force_login(AgentFactory())
    client.post(f"/agent/tickets/{ticket.number}/update/", {"field": "priority", "value": "urgent"})
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


def test_a_lead_holds_reports_macros_and_assignment() -> None:
    lead = AgentFactory(role=LEADS_GROUP)
    assert is_agent(lead)
    for perm in ("view_sla_report", "manage_macros", "assign_others", "view_all_tickets"):
        assert lead.has_perm(f"tickets.{perm}")
    assert not AgentFactory(role=LIGHT_AGENTS_GROUP).has_perm("tickets.reply_public")
