"""The agent websocket refuses subscribing to a ticket the agent may not see."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import AgentPreference, TicketScope
from tickets.workspace.consumers import AgentConsumer

pytestmark = pytest.mark.django_db(transaction=True)


def _restricted() -> tuple[Any, Any, Any]:
    ours, theirs = TeamFactory(), TeamFactory()
    agent = AgentFactory(username="rita")
    ours.members.add(agent)
    AgentPreference.objects.create(user=agent, ticket_scope=TicketScope.TEAMS)
    return agent, TicketFactory(team=ours), TicketFactory(team=theirs)


async def test_subscribing_to_another_teams_ticket_is_refused() -> None:
    agent, visible, hidden = await sync_to_async(_restricted)()
    ws = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    ws.scope["user"] = agent
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"action": "subscribe", "ticket": hidden.pk})
    assert (await ws.receive_json_from())["type"] == "error"
    await ws.send_json_to({"action": "subscribe", "ticket": visible.pk})
    assert (await ws.receive_json_from())["type"] == "subscribed"
    await ws.disconnect()
