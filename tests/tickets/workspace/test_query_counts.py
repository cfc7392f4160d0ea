"""Queue page, counts and ticket page run a fixed number of queries."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import TeamFactory, TicketFactory
from tickets.models import Channel, Direction, Message, Tag
from tickets.services import message_reply, ticket_set_status

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _tickets(n: int, agent: Any, team: Any) -> None:
    tags = [Tag.objects.get_or_create(name=f"t{i}")[0] for i in range(3)]
    for _ in range(n):
        ticket = TicketFactory(status="open", assignee=agent, team=team)
        ticket.tags.add(*tags)
        Message.objects.create(
            ticket=ticket, channel=Channel.EMAIL, direction=Direction.INBOUND, body_text="hi"
        )


def test_it_renders_the_queue_in_constant_queries(agent_client: Client, agent: Any) -> None:
    team = TeamFactory()
    team.members.add(agent)
    _tickets(1, agent, team)
    one = _queries(agent_client, "/agent/?view=open")
    one_search = _queries(agent_client, "/agent/?view=mine&q=hi&sort=priority")
    _tickets(49, agent, team)
    assert _queries(agent_client, "/agent/?view=open") == one
    assert _queries(agent_client, "/agent/?view=mine&q=hi&sort=priority") == one_search
    page = agent_client.get("/agent/?view=open")
    assert len(page.context["page"].items) == 50


def test_it_counts_every_view_in_constant_queries(agent_client: Client, agent: Any) -> None:
    team = TeamFactory()
    team.members.add(agent)
    _tickets(1, agent, team)
    one = _queries(agent_client, "/agent/counts/")
    _tickets(49, agent, team)
    assert _queries(agent_client, "/agent/counts/") == one


def test_it_renders_the_ticket_page_in_constant_queries(
    agent_client: Client, agent: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()
    agent_client.get(f"/agent/tickets/{ticket.number}/")  # the first visit creates the read mark
    one = _queries(agent_client, f"/agent/tickets/{ticket.number}/")
    for i in range(99):
        if i % 3 == 0:
            message_reply(ticket=ticket, author=agent, body_text=f"reply {i}", channel="email")
        elif i % 3 == 1:
            message_reply(ticket=ticket, author=agent, body_text=f"note {i}", is_internal=True)
        else:
            Message.objects.create(
                ticket=ticket, channel=Channel.SMS, direction=Direction.INBOUND, body_text="sms"
            )
    ticket_set_status(ticket=ticket, status="pending", actor=agent)
    assert ticket.messages.count() == 100
    assert _queries(agent_client, f"/agent/tickets/{ticket.number}/") == one
    since = "2000-01-01T00:00:00%2B00:00"
    first = _queries(agent_client, f"/agent/tickets/{ticket.number}/timeline/?since={since}")
    assert first == _queries(
        agent_client, f"/agent/tickets/{ticket.number}/timeline/?since={since}"
    )
