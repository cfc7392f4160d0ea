"""`tickets.assign_others` (docs/access.md): without it an agent changes the assignee only
between nobody and themselves, on every path (ticket header, bulk, macros, API); a lead
assigns anyone."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import TicketFactory
from tickets.models import Macro, Message, Status, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assign(client: Client, ticket: Ticket, value: str) -> Any:
    url = f"/agent/tickets/{ticket.number}/update/"
    return client.post(url, {"field": "assignee", "value": value}, follow=True)


def _assignee_id(ticket: Ticket) -> int | None:
    ticket.refresh_from_db()
    return ticket.assignee_id


def test_it_refuses_an_agent_giving_a_ticket_to_someone_else(agent: Any, other_agent: Any) -> None:
    ticket = TicketFactory(status=Status.OPEN)
    response = _assign(_client(agent), ticket, str(other_agent.pk))
    assert "Your role cannot assign tickets to other agents" in response.content.decode()
    assert _assignee_id(ticket) is None


def test_it_lets_an_agent_take_an_unassigned_ticket_and_let_go_of_it(agent: Any) -> None:
    ticket = TicketFactory(status=Status.OPEN)
    client = _client(agent)
    _assign(client, ticket, str(agent.pk))
    assert _assignee_id(ticket) == agent.pk
    _assign(client, ticket, "")
    assert _assignee_id(ticket) is None


def test_it_keeps_a_colleagues_ticket_theirs(agent: Any, other_agent: Any) -> None:
    ticket = TicketFactory(status=Status.OPEN, assignee=other_agent)
    client = _client(agent)
    for value in (str(agent.pk), ""):
        response = _assign(client, ticket, value)
        assert "assigned to another agent" in response.content.decode()
        assert _assignee_id(ticket) == other_agent.pk


def test_the_picker_is_locked_on_a_colleagues_ticket_unless_the_role_reassigns(
    agent: Any, other_agent: Any, lead: Any
) -> None:
    ticket = TicketFactory(status=Status.OPEN, assignee=other_agent)
    url = f"/agent/tickets/{ticket.number}/"
    picker = _client(agent).get(url).content.decode().split('id="h-assignee"', 1)[1]
    assert "disabled" in picker.split(">", 1)[0] and "a lead can reassign it" in picker
    picker = _client(lead).get(url).content.decode().split('id="h-assignee"', 1)[1]
    assert "disabled" not in picker.split(">", 1)[0]


def test_the_header_refusal_is_shown_in_the_htmx_fragment(agent: Any, other_agent: Any) -> None:
    ticket = TicketFactory(status=Status.OPEN)
    response = _client(agent).post(
        f"/agent/tickets/{ticket.number}/update/",
        {"field": "assignee", "value": str(other_agent.pk)},
        HTTP_HX_REQUEST="true",
    )
    assert "Your role cannot assign tickets to other agents" in response.content.decode()


def test_a_lead_assigns_and_reassigns_anyone(lead: Any, agent: Any, other_agent: Any) -> None:
    ticket = TicketFactory(status=Status.OPEN, assignee=other_agent)
    client = _client(lead)
    _assign(client, ticket, str(agent.pk))
    assert _assignee_id(ticket) == agent.pk
    _assign(client, ticket, "")
    assert _assignee_id(ticket) is None


def test_the_assignee_picker_offers_an_agent_only_nobody_and_themselves(
    agent: Any, other_agent: Any, lead: Any
) -> None:
    ticket = TicketFactory(status=Status.OPEN)
    page = _client(agent).get(f"/agent/tickets/{ticket.number}/").content.decode()
    picker = page.split('id="h-assignee"', 1)[1].split("</select>", 1)[0]
    assert f'value="{agent.pk}"' in picker and f'value="{other_agent.pk}"' not in picker
    page = _client(lead).get(f"/agent/tickets/{ticket.number}/").content.decode()
    picker = page.split('id="h-assignee"', 1)[1].split("</select>", 1)[0]
    # Every role is assignable, leads included.
    for user in (agent, other_agent, lead):
        assert f'value="{user.pk}"' in picker


# --- bulk -----------------------------------------------------------------------------------


def _bulk(client: Client, tickets: list[Ticket], assignee: str) -> Any:
    ids = [t.pk for t in tickets]
    data = {"ids": ids, "action": "assign", "assignee": assignee, "next": "/agent/"}
    return client.post("/agent/bulk/", data, follow=True)


def test_bulk_refuses_an_agent_assigning_to_someone_else_once(agent: Any, other_agent: Any) -> None:
    tickets = [TicketFactory(status=Status.OPEN) for _ in range(3)]
    response = _bulk(_client(agent), tickets, str(other_agent.pk))
    assert response.content.decode().count("Your role cannot assign tickets to other agents") == 1
    assert not Ticket.objects.filter(assignee__isnull=False).exists()


def test_bulk_lets_an_agent_take_unassigned_tickets_but_not_a_colleagues(
    agent: Any, other_agent: Any
) -> None:
    free = TicketFactory(status=Status.OPEN)
    held = TicketFactory(status=Status.OPEN, assignee=other_agent)
    response = _bulk(_client(agent), [free, held], str(agent.pk))
    assert "Updated 1 ticket(s)." in response.content.decode()
    assert f"#{held.number}: This ticket is assigned to another agent" in response.content.decode()
    assert (_assignee_id(free), _assignee_id(held)) == (agent.pk, other_agent.pk)


def test_bulk_lets_a_lead_assign_to_anyone(lead: Any, other_agent: Any) -> None:
    tickets = [TicketFactory(status=Status.OPEN) for _ in range(2)]
    _bulk(_client(lead), tickets, str(other_agent.pk))
    assert all(_assignee_id(t) == other_agent.pk for t in tickets)


# --- macros ---------------------------------------------------------------------------------


def _note_with_macro(client: Client, ticket: Ticket, macro: Macro) -> Any:
    url = f"/agent/tickets/{ticket.number}/reply/"
    return client.post(url, {"body": "Passing this on.", "kind": "note", "macro": macro.pk})


def test_a_macro_that_assigns_someone_else_is_refused_for_an_agent_and_nothing_is_sent(
    agent: Any, other_agent: Any
) -> None:
    macro = Macro.objects.create(name="To Sam", body="x", set_assignee=other_agent)
    ticket = TicketFactory(status=Status.OPEN)
    response = _note_with_macro(_client(agent), ticket, macro)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Your role cannot assign tickets to other agents" in page
    assert "Passing this on." in page  # the draft is kept
    assert not Message.objects.filter(ticket=ticket).exists()
    assert _assignee_id(ticket) is None


def test_a_lead_applies_a_macro_that_assigns_someone_else(lead: Any, other_agent: Any) -> None:
    macro = Macro.objects.create(name="To Sam", body="x", set_assignee=other_agent)
    ticket = TicketFactory(status=Status.OPEN)
    response = _note_with_macro(_client(lead), ticket, macro)
    assert response.status_code == 302
    assert _assignee_id(ticket) == other_agent.pk
    assert Message.objects.filter(ticket=ticket, is_internal=True).count() == 1


# --- API ------------------------------------------------------------------------------------


def _api(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_answers_403_to_an_agent_assigning_someone_else(
    agent: Any, other_agent: Any
) -> None:
    ticket = TicketFactory(status=Status.OPEN)
    url = f"/api/v1/tickets/{ticket.number}/"
    response = _api(agent).patch(url, {"assignee": "sam", "priority": "high"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "cannot assign tickets to other agents" in response.json()["error"]["message"]
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.priority) == (None, "normal")  # all or nothing
    assert _api(agent).patch(url, {"assignee": "alex"}, format="json").status_code == 200
    assert _assignee_id(ticket) == agent.pk


def test_the_api_refuses_a_new_ticket_for_someone_else_and_creates_nothing(
    agent: Any, other_agent: Any
) -> None:
    body = {
        "customer": {"email": "dana@example.com", "name": "Dana"},
        "subject": "Order 77",
        "text": "Noted.",
        "channel": "phone",
        "assignee": "sam",
    }
    response = _api(agent).post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_the_api_lets_a_lead_assign_anyone(lead: Any, other_agent: Any) -> None:
    ticket = TicketFactory(status=Status.OPEN)
    url = f"/api/v1/tickets/{ticket.number}/"
    assert _api(lead).patch(url, {"assignee": "sam"}, format="json").status_code == 200
    assert _assignee_id(ticket) == other_agent.pk
