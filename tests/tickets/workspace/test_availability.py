from typing import Any

import pytest
from django.test import Client

from channels_app.chat.presence import agent_presence_connect
from tests.factories import TeamFactory, TicketFactory
from tickets.automation.assignment import ticket_auto_assign
from tickets.automation.models import AgentAvailability
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_an_agent_goes_away_and_comes_back_to_the_waiting_tickets(agent: Any) -> None:
    team = TeamFactory(name="Support")
    agent.teams.add(team)
    agent_presence_connect(team_ids=[team.pk], user_id=agent.pk)
    client = Client()
    client.force_login(agent)
    assert (
        "You are <strong>available</strong>" in client.get("/agent/availability/").content.decode()
    )

    client.post("/agent/availability/", {"available": "0"})
    assert AgentAvailability.objects.get(user=agent).available is False
    ticket = TicketFactory(team=team)
    ticket_auto_assign(ticket=ticket, method="round_robin", rule_title="RR")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    page = client.get("/agent/availability/").content.decode()
    assert "Waiting for your teams now: 1." in page

    response = client.post("/agent/availability/", {"available": "1"}, follow=True)
    assert "tickets waiting for your teams come to you" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee == agent
