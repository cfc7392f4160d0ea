"""`tickets.edit_ticket_fields` reaches the composer (docs/access.md): a role that adds
internal notes only cannot change a ticket's fields through "Send and solve" or a macro's
changes either; its notes still go in."""

from typing import Any

import pytest
from django.test import Client

from helpdesk.roles import LIGHT_AGENTS_GROUP
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import Macro, Message, Status, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def light() -> tuple[Client, Ticket]:
    team = TeamFactory()
    user = AgentFactory(username="lee", role=LIGHT_AGENTS_GROUP)
    team.members.add(user)
    client = Client()
    client.force_login(user)
    return client, TicketFactory(team=team, status=Status.OPEN)


def _note(client: Client, ticket: Ticket, **extra: Any) -> Any:
    data = {"body": "Checked the logs.", "kind": "note", **extra}
    return client.post(f"/agent/tickets/{ticket.number}/reply/", data)


def test_a_note_and_solve_is_refused_and_nothing_is_written(light: tuple) -> None:
    client, ticket = light
    response = _note(client, ticket, then="solved")
    assert response.status_code == 400
    page = response.content.decode()
    assert "it cannot change the ticket" in page and "Checked the logs." in page
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and not Message.objects.filter(ticket=ticket).exists()


def test_a_macro_that_changes_fields_is_refused(light: tuple) -> None:
    client, ticket = light
    macro = Macro.objects.create(name="Close", body="x", set_status=Status.PENDING)
    assert _note(client, ticket, macro=macro.pk).status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and not Message.objects.filter(ticket=ticket).exists()


def test_a_plain_note_and_a_text_only_macro_still_work(light: tuple) -> None:
    client, ticket = light
    macro = Macro.objects.create(name="Text", body="Looking into it.")
    assert _note(client, ticket).status_code == 302
    assert _note(client, ticket, macro=macro.pk).status_code == 302
    assert Message.objects.filter(ticket=ticket, is_internal=True).count() == 2


def test_the_composer_offers_no_send_and_set_status_without_the_permission(
    light: tuple, agent: Any
) -> None:
    client, ticket = light
    assert 'id="send-solved"' not in client.get(f"/agent/tickets/{ticket.number}/").content.decode()
    other = Client()
    other.force_login(agent)
    assert 'id="send-solved"' in other.get(f"/agent/tickets/{ticket.number}/").content.decode()
