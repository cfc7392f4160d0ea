"""The agent websocket: who may connect, what they may subscribe to, what they receive."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.factories import TeamFactory, TicketFactory
from tickets.events import hint_send
from tickets.workspace.consumers import AgentConsumer
from tickets.workspace.presence import presence_list

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    return communicator


async def _open(user: Any) -> WebsocketCommunicator:
    communicator = await _connect(user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    from django.core.cache import cache

    from tests.live_server import close_executor_connections

    cache.clear()
    yield
    close_executor_connections()


async def test_it_refuses_anonymous_users() -> None:
    communicator = await _connect(AnonymousUser())
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


async def test_it_refuses_signed_in_non_agents(plain_user: Any) -> None:
    communicator = await _connect(plain_user)
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


async def test_it_delivers_ticket_events_to_subscribers_only(agent: Any, other_agent: Any) -> None:
    ticket = await sync_to_async(TicketFactory)()
    subscribed, bystander = await _open(agent), await _open(other_agent)
    await subscribed.send_json_to({"action": "subscribe", "ticket": ticket.pk})
    assert await subscribed.receive_json_from() == {
        "type": "subscribed",
        "group": f"ticket.{ticket.pk}",
    }
    await sync_to_async(hint_send)(
        [f"ticket.{ticket.pk}"], {"kind": "message", "ticket_id": ticket.pk}
    )
    event = await subscribed.receive_json_from()
    assert event == {"type": "event", "payload": {"kind": "message", "ticket_id": ticket.pk}}
    assert await bystander.receive_nothing()
    await subscribed.disconnect()
    await bystander.disconnect()


async def test_it_subscribes_to_queues_and_only_to_its_own_agent_queue(agent: Any) -> None:
    team = await sync_to_async(TeamFactory)()
    ws = await _open(agent)
    for queue, group in [
        ("mine", f"queue.agent.{agent.pk}"),
        ("noteam", "queue.noteam"),
        (f"team.{team.pk}", f"queue.team.{team.pk}"),
    ]:
        await ws.send_json_to({"action": "subscribe", "queue": queue})
        assert await ws.receive_json_from() == {"type": "subscribed", "group": group}
    await sync_to_async(hint_send)(
        [f"queue.agent.{agent.pk}"], {"kind": "assigned", "ticket_id": 1}
    )
    assert (await ws.receive_json_from())["payload"]["kind"] == "assigned"
    await ws.send_json_to({"action": "unsubscribe", "queue": "noteam"})
    assert await ws.receive_json_from() == {"type": "unsubscribed", "group": "queue.noteam"}
    await sync_to_async(hint_send)(["queue.noteam"], {"kind": "created", "ticket_id": 2})
    assert await ws.receive_nothing()
    await ws.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        {"action": "subscribe", "queue": "agent.1"},
        {"action": "subscribe", "queue": "team.999999"},
        {"action": "subscribe", "queue": "everything"},
        {"action": "subscribe", "ticket": 999999},
        {"action": "subscribe", "ticket": "1"},
        {"action": "shout"},
        ["not", "an", "object"],
    ],
)
async def test_it_refuses_unknown_or_foreign_groups(agent: Any, message: Any) -> None:
    ws = await _open(agent)
    await ws.send_json_to(message)
    reply = await ws.receive_json_from()
    assert reply["type"] == "error"
    await ws.disconnect()


async def test_it_broadcasts_presence_and_clears_it_on_disconnect(
    agent: Any, other_agent: Any
) -> None:
    ticket = await sync_to_async(TicketFactory)()
    alex, sam = await _open(agent), await _open(other_agent)
    for ws in (alex, sam):
        await ws.send_json_to({"action": "subscribe", "ticket": ticket.pk})
        await ws.receive_json_from()
    await alex.send_json_to({"action": "presence", "ticket": ticket.pk, "state": "replying"})
    seen_by_sam = await sam.receive_json_from()
    assert seen_by_sam == {
        "type": "presence",
        "ticket_id": ticket.pk,
        "agents": [{"user_id": agent.pk, "name": "Alex", "state": "replying"}],
    }
    assert (await alex.receive_json_from())["type"] == "presence"
    assert await sync_to_async(presence_list)(ticket_id=ticket.pk) == seen_by_sam["agents"]
    await alex.disconnect()
    gone = await sam.receive_json_from()
    assert gone["agents"] == []
    await sam.disconnect()


async def test_it_requires_a_subscription_before_presence(agent: Any) -> None:
    ticket = await sync_to_async(TicketFactory)()
    ws = await _open(agent)
    await ws.send_json_to({"action": "presence", "ticket": ticket.pk, "state": "viewing"})
    assert (await ws.receive_json_from())["type"] == "error"
    await ws.send_json_to({"action": "subscribe", "ticket": ticket.pk})
    await ws.receive_json_from()
    await ws.send_json_to({"action": "presence", "ticket": ticket.pk, "state": "dancing"})
    assert (await ws.receive_json_from())["type"] == "error"
    await ws.disconnect()


async def test_it_delivers_events_published_by_services_after_commit(agent: Any) -> None:
    from tickets.services import ticket_set_priority

    ticket = await sync_to_async(TicketFactory)()
    ws = await _open(agent)
    await ws.send_json_to({"action": "subscribe", "ticket": ticket.pk})
    await ws.receive_json_from()
    await sync_to_async(ticket_set_priority)(ticket=ticket, priority="urgent", actor=agent)
    event = await ws.receive_json_from(timeout=3)
    assert event["payload"] == {"kind": "priority", "ticket_id": ticket.pk}
    await ws.disconnect()


def test_it_uses_the_redis_channel_layer_when_redis_url_is_set() -> None:
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"


async def test_it_works_on_the_in_memory_layer_of_the_embedded_default(
    agent: Any, settings: Any
) -> None:
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    try:
        ticket = await sync_to_async(TicketFactory)()
        ws = await _open(agent)
        await ws.send_json_to({"action": "subscribe", "ticket": ticket.pk})
        await ws.receive_json_from()
        await get_channel_layer().group_send(
            f"ticket.{ticket.pk}", {"type": "helpdesk.event", "payload": {"kind": "x"}}
        )
        assert (await ws.receive_json_from())["payload"] == {"kind": "x"}
        await ws.disconnect()
    finally:
        channel_layers.backends.clear()
