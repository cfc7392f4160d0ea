"""A chat reply turns delivered when the visitor's widget confirms it got it; a reply sent
while no widget is open says so, and counts as delivered once the visitor is back."""

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from channels_app.chat.presence import visitor_online
from channels_app.models import ChatChannel, Delivery, DeliveryStatus
from tests.channels_app.chat.test_chat_consumer import hello, say
from tests.factories import IdentityFactory
from tickets.events import events_flush, ticket_group
from tickets.models import IdentityKind, Message, Ticket
from tickets.services import message_reply

pytestmark = pytest.mark.django_db(transaction=True)


async def chat_with_reply(chat_channel: ChatChannel, agent: Any, text: str = "It ships today!"):
    comm, welcome = await hello(chat_channel)
    ack = await say(comm, "Where is my order?", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    reply = await database_sync_to_async(message_reply)(ticket=ticket, author=agent, body_text=text)
    pushed = await comm.receive_json_from(timeout=5)
    assert pushed["type"] == "message" and pushed["id"] == f"m{reply.pk}"
    return comm, welcome, ticket, reply


async def delivery_of(message: Message, *, until: str | None = None) -> Delivery:
    """The message's delivery, once it reaches `until` (the widget's frame is async)."""
    deadline = time.monotonic() + 5
    while True:
        delivery = await database_sync_to_async(Delivery.objects.get)(message=message)
        if until is None or delivery.status == until or time.monotonic() > deadline:
            return delivery
        await asyncio.sleep(0.05)


async def test_it_marks_a_reply_delivered_when_the_widget_confirms_it(chat_channel, agent):
    comm, _, ticket, reply = await chat_with_reply(chat_channel, agent)
    assert (await delivery_of(reply)).status == DeliveryStatus.SENT
    assert await database_sync_to_async(events_flush)()  # the reply's own hints go first
    layer = get_channel_layer()
    agent_page = await layer.new_channel()
    await layer.group_add(ticket_group(ticket.pk), agent_page)

    await comm.send_json_to({"type": "received", "id": f"m{reply.pk}"})

    delivery = await delivery_of(reply, until=DeliveryStatus.DELIVERED)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.delivered_at is not None and delivery.sent_at is not None
    event = await asyncio.wait_for(layer.receive(agent_page), 5)
    assert event["payload"] == {
        "kind": "delivery",
        "ticket": ticket.pk,
        "message_id": reply.pk,
        "delivery_id": delivery.pk,
        "status": "delivered",
        "label": "Delivered",
        "detail": "",
    }
    await comm.disconnect()


async def test_it_ignores_forged_unknown_and_malformed_ids(chat_channel, agent):
    comm, _, _, reply = await chat_with_reply(chat_channel, agent)
    # Another visitor with a reply of their own.
    other, _, _, theirs = await chat_with_reply(chat_channel, agent, text="Yours is late.")

    for frame in (
        {"type": "received", "id": f"m{theirs.pk}"},  # someone else's reply
        {"type": "received", "ids": ["m999999999", "m", "x1", 7, None, {"id": 1}]},
        {"type": "received", "id": ["m1"]},
        {"type": "received", "ids": "m1"},
        {"type": "received"},
    ):
        await comm.send_json_to(frame)
    # The socket still answers (nothing above broke it), and nothing changed.
    await comm.send_json_to({"type": "status"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "status"

    assert (await delivery_of(theirs)).status == DeliveryStatus.SENT
    assert (await delivery_of(reply)).status == DeliveryStatus.SENT
    await comm.disconnect()
    await other.disconnect()


async def test_it_counts_a_repeated_receipt_once(chat_channel, agent):
    comm, _, _, reply = await chat_with_reply(chat_channel, agent)
    await comm.send_json_to({"type": "received", "id": f"m{reply.pk}"})
    first = await delivery_of(reply, until=DeliveryStatus.DELIVERED)

    await comm.send_json_to({"type": "received", "ids": [f"m{reply.pk}", f"m{reply.pk}"]})
    await comm.send_json_to({"type": "status"})
    await comm.receive_json_from(timeout=5)

    assert (await delivery_of(reply)).delivered_at == first.delivered_at
    await comm.disconnect()


async def test_it_says_when_the_visitor_had_left_and_delivers_on_their_return(chat_channel, agent):
    comm, welcome, ticket, _ = await chat_with_reply(chat_channel, agent)
    await comm.disconnect()
    visitor = await welcome_visitor(ticket)
    await database_sync_to_async(IdentityFactory)(
        customer_id=ticket.customer_id, kind=IdentityKind.EMAIL, value="dana@example.com"
    )
    assert not await database_sync_to_async(visitor_online)(visitor)

    late = await database_sync_to_async(message_reply)(
        ticket=ticket, author=agent, body_text="Anything else?"
    )

    away = await delivery_of(late)
    assert away.status == DeliveryStatus.UNDELIVERED and away.sent_at is not None
    assert "closed the chat" in away.last_error
    assert "reply by email to dana@example.com" in away.last_error
    # The visitor comes back: the reply is in the history; the widget confirms it.
    back, again = await hello(chat_channel, token=welcome["token"])
    assert again["history"][-1]["id"] == f"m{late.pk}"
    await back.send_json_to({"type": "received", "ids": [m["id"] for m in again["history"]]})

    delivered = await delivery_of(late, until=DeliveryStatus.DELIVERED)
    assert delivered.status == DeliveryStatus.DELIVERED and delivered.last_error == ""
    await back.disconnect()


async def test_it_says_a_visitor_without_email_reads_the_reply_on_their_next_visit(
    chat_channel, agent
):
    comm, _, ticket, _ = await chat_with_reply(chat_channel, agent)
    await comm.disconnect()

    late = await database_sync_to_async(message_reply)(
        ticket=ticket, author=agent, body_text="Anything else?"
    )

    away = await delivery_of(late)
    assert away.status == DeliveryStatus.UNDELIVERED
    assert "no email address" in away.last_error


async def test_it_counts_the_visitor_online_while_any_tab_is_open(chat_channel):
    first, welcome = await hello(chat_channel)
    second, _ = await hello(chat_channel, token=welcome["token"])
    ack = await say(first, "hi", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    visitor = await welcome_visitor(ticket)
    # A repeated hello on an open socket is not a second tab.
    await first.send_json_to({"type": "hello", "token": welcome["token"]})
    await first.receive_json_from(timeout=5)

    await second.disconnect()
    assert await database_sync_to_async(visitor_online)(visitor)
    await first.disconnect()
    assert not await database_sync_to_async(visitor_online)(visitor)


async def welcome_visitor(ticket: Ticket) -> str:
    message = await database_sync_to_async(
        lambda: Message.objects.select_related("author_identity").filter(ticket=ticket).first()
    )()
    assert message is not None and message.author_identity is not None
    return message.author_identity.value


async def test_it_hints_every_agent_socket_when_a_chat_starts_or_stops_waiting(chat_channel, agent):
    from channels.testing import WebsocketCommunicator

    from tickets.workspace.consumers import AgentConsumer

    desk = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    desk.scope["user"] = agent
    connected, _ = await desk.connect()
    assert connected  # subscribed to no ticket or queue

    comm, _ = await hello(chat_channel)
    ack = await say(comm, "Anyone there?", "uuid-1")
    arrived = await desk.receive_json_from(timeout=5)
    assert arrived == {"type": "event", "payload": {"kind": "chats_waiting", "arrived": True}}
    # A resent frame is the same message: no second hint.
    await say(comm, "Anyone there?", "uuid-1")
    assert await desk.receive_nothing(timeout=0.3)

    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    await database_sync_to_async(message_reply)(ticket=ticket, author=agent, body_text="Yes!")
    answered = await desk.receive_json_from(timeout=5)
    assert answered == {"type": "event", "payload": {"kind": "chats_waiting", "arrived": False}}
    await comm.disconnect()
    await desk.disconnect()
