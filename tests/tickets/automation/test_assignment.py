from collections import Counter
from typing import Any

import pytest

from channels_app.chat.presence import agent_presence_connect
from tests.factories import AgentFactory, CustomerFactory, TeamFactory, TicketFactory
from tickets.automation.assignment import (
    agent_availability_set,
    assignment_queue_drain,
    ticket_auto_assign,
)
from tickets.automation.models import AgentAvailability, QueuedAssignment
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def support() -> Any:
    return TeamFactory(name="Support")


def _agents(team: Any, n: int, *, online: bool = True) -> list[Any]:
    agents = []
    for _ in range(n):
        agent = AgentFactory()
        agent.teams.add(team)
        if online:
            agent_presence_connect(team_ids=[team.pk], user_id=agent.pk)
        agents.append(agent)
    return agents


def _tickets(team: Any, n: int, **kwargs: Any) -> list[Ticket]:
    customer = CustomerFactory()
    return [TicketFactory(team=team, customer=customer, **kwargs) for _ in range(n)]


def test_round_robin_is_fair_over_1000_tickets(support: Any) -> None:
    agents = _agents(support, 5)
    for ticket in _tickets(support, 1000):
        ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="Round-robin")
    counts = Counter(Ticket.objects.values_list("assignee_id", flat=True))
    assert set(counts) == {a.pk for a in agents}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_it_names_the_rule_in_the_timeline(support: Any) -> None:
    (agent,) = _agents(support, 1)
    (ticket,) = _tickets(support, 1)
    ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="Round-robin in Support")
    text = TicketEvent.objects.get(ticket=ticket, kind="automation").data["text"]
    name = agent.get_full_name() or agent.get_username()
    assert text.startswith(f"Assigned to {name} by round-robin in Support")
    assert "Round-robin in Support" in text


def test_away_and_offline_agents_are_skipped(support: Any) -> None:
    away, offline, present = _agents(support, 3)
    agent_availability_set(user=away, available=False)
    from channels_app.chat.presence import agent_presence_disconnect

    agent_presence_disconnect(team_ids=[support.pk], user_id=offline.pk)
    for ticket in _tickets(support, 4):
        ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="RR")
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {present.pk}


def test_capacity_is_respected_and_the_rest_waits(support: Any) -> None:
    first, second = _agents(support, 2)
    for agent in (first, second):
        AgentAvailability.objects.create(user=agent, max_open_tickets=2)
    tickets = _tickets(support, 5)
    for ticket in tickets:
        ticket_auto_assign(ticket=ticket, method="least_loaded", rule_title="LL")
    counts = Counter(Ticket.objects.exclude(assignee=None).values_list("assignee_id", flat=True))
    assert counts == {first.pk: 2, second.pk: 2}
    assert list(QueuedAssignment.objects.values_list("ticket_id", flat=True)) == [tickets[4].pk]


def test_chat_capacity_counts_only_working_chats(support: Any) -> None:
    (agent,) = _agents(support, 1)
    AgentAvailability.objects.create(user=agent, max_concurrent_chats=1)
    chats = _tickets(support, 2, channel="chat")
    for ticket in chats:
        ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="Chats")
    assert Ticket.objects.get(pk=chats[0].pk).assignee == agent
    assert Ticket.objects.get(pk=chats[1].pk).assignee is None
    (mail,) = _tickets(support, 1)
    ticket_auto_assign(ticket=mail, method="round_robin", rule_title="Mail")
    assert Ticket.objects.get(pk=mail.pk).assignee == agent


def test_queued_tickets_go_in_arrival_order_when_an_agent_comes_back(support: Any) -> None:
    (agent,) = _agents(support, 1)
    agent_availability_set(user=agent, available=False, max_open_tickets=1)
    tickets = _tickets(support, 3)
    for ticket in tickets:
        ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="RR")
    assert QueuedAssignment.objects.count() == 3
    agent_availability_set(user=agent, available=True)
    assert Ticket.objects.get(pk=tickets[0].pk).assignee == agent
    assert Ticket.objects.filter(assignee=agent).count() == 1  # capacity 1
    AgentAvailability.objects.filter(user=agent).update(max_open_tickets=None)
    assert assignment_queue_drain() == 2
    assert QueuedAssignment.objects.count() == 0


def test_a_ticket_taken_by_hand_leaves_the_queue(support: Any, agent: Any) -> None:
    (ticket,) = _tickets(support, 1)
    ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="RR")
    from tickets.services import ticket_assign

    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    assert assignment_queue_drain() == 0
    assert not QueuedAssignment.objects.exists()


def test_an_agent_coming_online_gets_the_waiting_tickets(support: Any) -> None:
    from tickets.automation.assignment import assignment_queue_nudge

    (agent,) = _agents(support, 1, online=False)
    (ticket,) = _tickets(support, 1)
    ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="RR")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    agent_presence_connect(team_ids=[support.pk], user_id=agent.pk)
    assert assignment_queue_nudge(user_id=agent.pk) == 1
    assert Ticket.objects.get(pk=ticket.pk).assignee == agent
    assert assignment_queue_nudge(user_id=agent.pk) == 0
