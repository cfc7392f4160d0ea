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


async def _reply_to(ws: WebsocketCommunicator, queue: str) -> str:
    await ws.send_json_to({"action": "subscribe", "queue": queue})
    return (await ws.receive_json_from())["type"]


async def test_a_team_scoped_agent_watches_only_their_teams_queues() -> None:
    agent, visible, hidden = await sync_to_async(_restricted)()
    ws = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    ws.scope["user"] = agent
    assert (await ws.connect())[0]

    assert await _reply_to(ws, f"team.{hidden.team_id}") == "error"
    assert await _reply_to(ws, "noteam") == "error"
    assert await _reply_to(ws, f"team.{visible.team_id}") == "subscribed"
    assert await _reply_to(ws, "mine") == "subscribed"
    await ws.disconnect()


async def test_an_agent_who_sees_every_ticket_watches_every_queue_that_exists() -> None:
    def setup() -> tuple[Any, Any]:
        team = TeamFactory()
        agent = AgentFactory(username="vera")
        AgentPreference.objects.create(user=agent, ticket_scope=TicketScope.ALL)
        return agent, team

    agent, team = await sync_to_async(setup)()
    ws = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    ws.scope["user"] = agent
    assert (await ws.connect())[0]

    assert await _reply_to(ws, f"team.{team.pk}") == "subscribed"
    assert await _reply_to(ws, "noteam") == "subscribed"
    assert await _reply_to(ws, "team.999999") == "error"
    await ws.disconnect()
