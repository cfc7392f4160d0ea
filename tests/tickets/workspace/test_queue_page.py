"""queue_page: a queue page's tickets as QueueRow dataclasses, in a fixed number of
queries, and the 404 mapping of ticket_for_agent's None."""

from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TicketFactory
from tickets.models import AgentPreference, Channel, Direction, Message, Status, TicketScope
from tickets.selectors import PREVIEW_CHARS, TicketFilters, ticket_for_agent
from tickets.services import ticket_assign
from tickets.workspace.selectors import agent_team_ids, queue_choice, queue_page
from tickets.workspace.views import ticket_or_404

pytestmark = pytest.mark.django_db


def _choice(agent: Any, view: str = "open") -> Any:
    return queue_choice(
        view=view,
        sort=None,
        base=TicketFilters(),
        user=agent,
        team_ids=agent_team_ids(user=agent),
        now=timezone.now(),
    )


def _message(ticket: Any, text: str, direction: str) -> None:
    Message.objects.create(
        ticket=ticket, channel=Channel.EMAIL, direction=direction, body_text=text
    )


def test_it_shows_the_last_public_message_and_whether_it_is_ours(agent: Any) -> None:
    asked = TicketFactory(status=Status.OPEN)
    _message(asked, "Where is my parcel?", Direction.INBOUND)
    answered = TicketFactory(status=Status.OPEN)
    _message(answered, "It left the warehouse.\n" + "x" * 300, Direction.OUTBOUND)

    rows = {row.ticket.pk: row for row in queue_page(choice=_choice(agent), user=agent).rows}

    assert (rows[asked.pk].preview, rows[asked.pk].outbound) == ("Where is my parcel?", False)
    assert rows[answered.pk].outbound is True
    assert rows[answered.pk].preview.startswith("It left the warehouse. xxx")
    assert len(rows[answered.pk].preview) == PREVIEW_CHARS


def test_it_reads_a_page_in_the_same_number_of_queries_for_1_and_20_tickets(
    agent: Any,
) -> None:
    TicketFactory(status=Status.OPEN)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            rows = queue_page(choice=_choice(agent), user=agent).rows
            for row in rows:
                (row.ticket.customer.name, [tag.name for tag in row.ticket.tags.all()])
        return len(ctx.captured_queries)

    count()  # the agent's scope and the SLA calendars are read once, then cached
    one = count()
    for _ in range(19):
        TicketFactory(status=Status.OPEN)
    assert count() == one


def test_a_ticket_outside_the_agents_scope_is_none_and_its_page_a_404(
    agent: Any, other_agent: Any
) -> None:
    AgentPreference.objects.create(user=agent, ticket_scope=TicketScope.ASSIGNED)
    mine, theirs = TicketFactory(status=Status.OPEN), TicketFactory(status=Status.OPEN)
    ticket_assign(ticket=mine, agent=agent, actor=agent)
    ticket_assign(ticket=theirs, agent=other_agent, actor=other_agent)
    request = RequestFactory().get("/")
    request.user = agent

    assert ticket_for_agent(user=agent, number=theirs.number) is None
    assert ticket_or_404(request, mine.number).pk == mine.pk
    with pytest.raises(Http404):
        ticket_or_404(request, theirs.number)
