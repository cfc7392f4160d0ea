"""The agent websocket feeds the chat channel: who is online, and who is typing."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from channels_app.chat.presence import agent_online
from channels_app.chat.sender import chat_visitor_group
from channels_app.inbound import Identity, InboundMessage
from channels_app.ingest import inbound_message_ingest
from tests.factories import TeamFactory
from tickets.models import Channel, IdentityKind
from tickets.workspace.consumers import AgentConsumer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    from django.core.cache import cache

    from tests.live_server import close_executor_connections

    cache.clear()
    yield
    close_executor_connections()


async def _open(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_it_counts_an_agent_online_for_their_teams_while_connected(agent: Any) -> None:
    team = await sync_to_async(TeamFactory)()
    other = await sync_to_async(TeamFactory)()
    await sync_to_async(team.members.add)(agent)

    communicator = await _open(agent)
    online = await sync_to_async(agent_online)(team.pk)
    other_online = await sync_to_async(agent_online)(other.pk)
    await communicator.disconnect()
    after = await sync_to_async(agent_online)(team.pk)

    assert online and not other_online
    assert not after


def _chat_ticket() -> int:
    result = inbound_message_ingest(
        message=InboundMessage(
            channel=Channel.CHAT,
            external_id="chat-msg-1",
            sender=Identity(IdentityKind.CHAT, "visitor-abc"),
            subject="",
            text="Is anyone there?",
            html=None,
            received_at=timezone.now(),
            join_open_ticket=True,
        )
    )
    return result.ticket.pk


async def test_it_shows_the_chat_visitor_that_an_agent_is_typing(agent: Any) -> None:
    ticket_id = await sync_to_async(_chat_ticket)()
    layer = get_channel_layer()
    visitor_channel = await layer.new_channel()
    await layer.group_add(chat_visitor_group("visitor-abc"), visitor_channel)
    communicator = await _open(agent)
    await communicator.send_json_to({"action": "subscribe", "ticket": ticket_id})
    assert (await communicator.receive_json_from())["type"] == "subscribed"

    await communicator.send_json_to(
        {"action": "presence", "ticket": ticket_id, "state": "replying"}
    )
    started = await layer.receive(visitor_channel)
    await communicator.send_json_to({"action": "presence", "ticket": ticket_id, "state": "viewing"})
    stopped = await layer.receive(visitor_channel)
    await communicator.disconnect()

    assert started["type"] == "chat.typing" and started["typing"] is True
    assert started["author"] == "Alex"
    assert stopped["typing"] is False
