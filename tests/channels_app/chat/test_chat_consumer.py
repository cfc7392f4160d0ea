import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core import mail

from channels_app.chat.presence import agent_presence_connect
from channels_app.chat.services import chat_agent_typing
from channels_app.models import ChatChannel, Delivery, DeliveryStatus
from helpdesk.asgi import application
from tests.factories import IdentityFactory
from tickets.events import events_flush, ticket_group
from tickets.models import Channel, ContactIdentity, IdentityKind, Message, Ticket
from tickets.services import message_reply, reply_channel_default

pytestmark = pytest.mark.django_db(transaction=True)
ALLOWED = "https://shop.example.com"


async def open_socket(channel: ChatChannel, origin: str = ALLOWED, key: str | None = None):
    comm = WebsocketCommunicator(
        application,
        f"/ws/chat/?channel={key or channel.key}",
        headers=[(b"origin", origin.encode()), (b"host", b"desk.example.com")],
    )
    connected, code = await comm.connect()
    return comm, connected, code


async def hello(channel: ChatChannel, token: str | None = None, origin: str = ALLOWED):
    comm, connected, _ = await open_socket(channel, origin)
    assert connected
    await comm.send_json_to({"type": "hello", **({"token": token} if token else {})})
    welcome = await comm.receive_json_from()
    assert welcome["type"] == "welcome", welcome
    return comm, welcome


async def say(comm, text: str, client_id: str) -> dict:
    await comm.send_json_to({"type": "message", "id": client_id, "text": text})
    return await comm.receive_json_from()


async def test_it_welcomes_a_visitor_from_an_allowed_origin_with_a_signed_token(chat_channel):
    comm, welcome = await hello(chat_channel)

    assert welcome["token"] and welcome["greeting"] == chat_channel.greeting
    assert welcome["colour"] == chat_channel.colour
    assert welcome["history"] == [] and welcome["agents_online"] is False
    await comm.disconnect()


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://shop.example.com.evil.example", "null", ""]
)
async def test_it_refuses_a_page_from_an_origin_not_allowed(chat_channel, origin):
    comm, connected, code = await open_socket(chat_channel, origin)

    assert not connected and code == 4403
    await comm.disconnect()


async def test_it_accepts_subdomains_and_ports_as_configured(chat_channel):
    for origin in ("https://help.example.org", "http://127.0.0.1:8123"):
        comm, connected, _ = await open_socket(chat_channel, origin)
        assert connected, origin
        await comm.disconnect()
    comm, connected, _ = await open_socket(chat_channel, "http://127.0.0.1:9999")
    assert not connected


async def test_it_refuses_an_unknown_or_inactive_channel(chat_channel):
    _comm, connected, code = await open_socket(chat_channel, key="nope")
    assert not connected and code == 4403
    await database_sync_to_async(ChatChannel.objects.update)(active=False)
    _comm, connected, code = await open_socket(chat_channel)
    assert not connected and code == 4403


async def test_it_turns_a_visitor_message_into_a_chat_ticket_on_the_channel_team(chat_channel):
    comm, _ = await hello(chat_channel)

    ack = await say(comm, "Do you ship to Norway?", "uuid-1")

    assert ack["type"] == "ack" and ack["id"] == "uuid-1" and ack["ticket"]
    message = await database_sync_to_async(
        lambda: Message.objects.select_related("ticket", "author_identity").get()
    )()
    assert message.channel == Channel.CHAT and message.body_text == "Do you ship to Norway?"
    assert message.author_identity.kind == IdentityKind.CHAT
    assert message.ticket.team_id == chat_channel.team_id
    assert message.ticket.number == ack["ticket"]
    await comm.disconnect()


async def test_it_stores_a_resent_message_once_and_joins_the_open_ticket(chat_channel):
    comm, _ = await hello(chat_channel)

    first = await say(comm, "hello", "uuid-1")
    again = await say(comm, "hello", "uuid-1")
    later = await say(comm, "anyone?", "uuid-2")

    assert first["ticket"] == again["ticket"] == later["ticket"]
    assert await database_sync_to_async(Message.objects.count)() == 2
    assert await database_sync_to_async(Ticket.objects.count)() == 1
    await comm.disconnect()


async def test_it_resumes_the_same_visitor_and_history_when_the_token_is_reused(chat_channel):
    comm, welcome = await hello(chat_channel)
    await say(comm, "first visit", "uuid-1")
    await comm.disconnect()

    comm, again = await hello(chat_channel, token=welcome["token"])

    assert [item["text"] for item in again["history"]] == ["first visit"]
    await say(comm, "back again", "uuid-2")
    assert await database_sync_to_async(Ticket.objects.count)() == 1
    assert await database_sync_to_async(ContactIdentity.objects.count)() == 1
    await comm.disconnect()


async def test_it_ends_the_session_on_a_tampered_token(chat_channel):
    comm, welcome = await hello(chat_channel)
    await comm.disconnect()
    forged = welcome["token"][:-3] + ("AAA" if not welcome["token"].endswith("AAA") else "BBB")

    comm, _connected, _ = await open_socket(chat_channel)
    await comm.send_json_to({"type": "hello", "token": forged})
    error = await comm.receive_json_from()
    closed = await comm.receive_output()

    assert error["type"] == "error" and error["code"] == "bad_token"
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_it_refuses_a_token_signed_for_another_channel(chat_channel):
    other = await database_sync_to_async(ChatChannel.objects.create)(
        name="Other", allowed_domains="shop.example.com"
    )
    comm, welcome = await hello(other)
    await comm.disconnect()

    comm, _, _ = await open_socket(chat_channel)
    await comm.send_json_to({"type": "hello", "token": welcome["token"]})

    assert (await comm.receive_json_from())["code"] == "bad_token"


async def test_it_asks_for_hello_before_anything_else(chat_channel):
    comm, _, _ = await open_socket(chat_channel)

    await comm.send_json_to({"type": "message", "id": "x", "text": "hi"})

    assert (await comm.receive_json_from())["code"] == "hello_first"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await comm.disconnect()


async def test_it_explains_an_empty_message_and_stores_nothing(chat_channel):
    comm, _ = await hello(chat_channel)

    error = await say(comm, "   ", "uuid-1")

    assert error["code"] == "invalid" and "Write a message" in error["message"]
    assert error["id"] == "uuid-1"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await comm.disconnect()


async def test_it_pushes_an_agent_reply_to_the_visitor_and_records_it_sent(chat_channel, agent):
    comm, _ = await hello(chat_channel)
    ack = await say(comm, "Where is my order?", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])

    def answer():
        assert reply_channel_default(ticket=ticket) == Channel.CHAT
        return message_reply(ticket=ticket, author=agent, body_text="It ships today!")

    reply = await database_sync_to_async(answer)()
    pushed = await comm.receive_json_from(timeout=5)

    assert pushed["type"] == "message" and pushed["text"] == "It ships today!"
    assert pushed["author"] == "Alex" and pushed["direction"] == "outbound"
    delivery = await database_sync_to_async(Delivery.objects.get)(message=reply)
    assert delivery.status == DeliveryStatus.SENT and delivery.channel == Channel.CHAT
    await comm.disconnect()


async def test_it_reaches_every_open_tab_of_the_visitor(chat_channel, agent):
    first, welcome = await hello(chat_channel)
    second, _ = await hello(chat_channel, token=welcome["token"])
    ack = await say(first, "hi", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])

    await database_sync_to_async(message_reply)(ticket=ticket, author=agent, body_text="Hello!")

    assert (await first.receive_json_from(timeout=5))["text"] == "Hello!"
    assert (await second.receive_json_from(timeout=5))["text"] == "Hello!"
    await first.disconnect()
    await second.disconnect()


async def test_it_tells_agents_on_the_ticket_when_the_visitor_types(chat_channel):
    comm, _ = await hello(chat_channel)
    ack = await say(comm, "hi", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    # The ticket's "created" hint goes out from a background thread: let it go first.
    assert await database_sync_to_async(events_flush)()
    layer = get_channel_layer()
    agent_channel = await layer.new_channel()
    await layer.group_add(ticket_group(ticket.pk), agent_channel)

    await comm.send_json_to({"type": "typing", "typing": True})
    event = await asyncio.wait_for(layer.receive(agent_channel), 5)

    assert event["payload"] == {
        "kind": "typing",
        "ticket_id": ticket.pk,
        "who": "customer",
        "typing": True,
    }
    await comm.disconnect()


async def test_it_shows_the_visitor_when_an_agent_types(chat_channel):
    comm, _ = await hello(chat_channel)
    ack = await say(comm, "hi", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])

    told = await database_sync_to_async(chat_agent_typing)(
        ticket_id=ticket.pk, agent_name="Alex", typing=True
    )

    assert told == 1
    assert await comm.receive_json_from(timeout=5) == {
        "type": "typing",
        "typing": True,
        "author": "Alex",
    }
    await comm.disconnect()


async def test_it_rate_limits_a_visitor_token_and_keeps_what_came_before(chat_channel, settings):
    settings.HELPDESK_CHAT_RATE_LIMIT = 2
    comm, _ = await hello(chat_channel)

    replies = [await say(comm, f"message {n}", f"uuid-{n}") for n in range(3)]

    assert [r["type"] for r in replies] == ["ack", "ack", "error"]
    assert replies[2]["code"] == "rate_limited" and "Wait a minute" in replies[2]["message"]
    assert await database_sync_to_async(Message.objects.count)() == 2
    await comm.disconnect()


async def test_it_requires_name_and_email_first_when_the_channel_says_so(chat_channel, customer):
    await database_sync_to_async(ChatChannel.objects.update)(require_email=True)
    comm, welcome = await hello(chat_channel)
    assert welcome["require_email"] is True and welcome["email"] == ""

    refused = await say(comm, "hi", "uuid-1")
    await comm.send_json_to({"type": "identify", "name": "Dana", "email": "Dana@Example.com"})
    identified = await comm.receive_json_from()
    ack = await say(comm, "hi", "uuid-1")

    assert refused["code"] == "identify_first"
    assert identified == {"type": "identified", "email": "dana@example.com"}
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    assert ticket.customer_id == customer.pk  # joined to the known customer's history
    await comm.disconnect()


async def test_it_explains_an_invalid_email(chat_channel):
    comm, _ = await hello(chat_channel)

    await comm.send_json_to({"type": "identify", "name": "Dana", "email": "not-an-email"})
    error = await comm.receive_json_from()

    assert error["code"] == "invalid_identity" and "not a valid email" in error["message"]
    await comm.disconnect()


async def test_it_joins_an_anonymous_chat_to_the_customer_once_the_email_is_given(
    chat_channel, customer
):
    comm, _ = await hello(chat_channel)
    ack = await say(comm, "hi there", "uuid-1")

    await comm.send_json_to({"type": "identify", "name": "Dana", "email": "dana@example.com"})
    await comm.receive_json_from()

    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    assert ticket.customer_id == customer.pk
    kinds = await database_sync_to_async(
        lambda: sorted(customer.identities.values_list("kind", flat=True))
    )()
    assert kinds == [IdentityKind.CHAT, IdentityKind.EMAIL]
    await comm.disconnect()


async def test_it_says_no_agent_is_online_and_takes_a_message_answered_by_email(
    chat_channel, agent
):
    comm, welcome = await hello(chat_channel)
    assert welcome["agents_online"] is False

    await comm.send_json_to(
        {
            "type": "offline",
            "id": "uuid-1",
            "name": "Lee",
            "email": "lee@example.net",
            "text": "Call me back please",
        }
    )
    ack = await comm.receive_json_from()

    assert ack["type"] == "ack" and ack["offline"] is True
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    assert ticket.channel == Channel.WEB and ticket.team_id == chat_channel.team_id
    assert await database_sync_to_async(reply_channel_default)(ticket=ticket) == Channel.EMAIL
    reply = await database_sync_to_async(message_reply)(
        ticket=ticket, author=agent, body_text="Calling you now."
    )
    delivery = await database_sync_to_async(Delivery.objects.get)(message=reply)
    assert delivery.channel == Channel.EMAIL and delivery.recipient == "lee@example.net"
    await comm.disconnect()


async def test_it_reports_an_agent_online_for_the_channel_team(chat_channel):
    await database_sync_to_async(agent_presence_connect)(team_ids=[chat_channel.team_id])

    comm, welcome = await hello(chat_channel)
    await comm.send_json_to({"type": "status"})
    status = await comm.receive_json_from()

    assert welcome["agents_online"] is True and status["agents_online"] is True
    await comm.disconnect()


async def test_it_emails_the_transcript_on_request(chat_channel, agent):
    comm, _ = await hello(chat_channel)
    await comm.send_json_to({"type": "identify", "name": "Dana", "email": "dana@example.com"})
    await comm.receive_json_from()
    ack = await say(comm, "What are your hours?", "uuid-1")
    ticket = await database_sync_to_async(Ticket.objects.get)(number=ack["ticket"])
    await database_sync_to_async(message_reply)(ticket=ticket, author=agent, body_text="9 to 5.")
    await comm.receive_json_from(timeout=5)

    await comm.send_json_to({"type": "transcript"})
    sent = await comm.receive_json_from()

    assert sent == {"type": "transcript_sent", "email": "dana@example.com"}
    (email,) = mail.outbox
    assert email.to == ["dana@example.com"]
    assert "You: What are your hours?" in email.body and "Alex: 9 to 5." in email.body
    await comm.disconnect()


async def test_it_cannot_email_a_transcript_without_an_address(chat_channel):
    comm, _ = await hello(chat_channel)
    await say(comm, "hi", "uuid-1")

    await comm.send_json_to({"type": "transcript"})
    error = await comm.receive_json_from()

    assert error["code"] == "no_email" and not mail.outbox
    await comm.disconnect()


async def test_it_never_shows_a_visitor_the_customers_other_conversations(
    chat_channel, customer, agent
):
    from channels_app.ingest import inbound_message_ingest
    from tests.conftest import inbound

    await database_sync_to_async(inbound_message_ingest)(
        message=inbound(external_id="<private@mail>", text="my private email")
    )
    comm, welcome = await hello(chat_channel)
    await comm.send_json_to({"type": "identify", "name": "x", "email": "dana@example.com"})
    await comm.receive_json_from()
    await say(comm, "chat text", "uuid-1")
    await comm.disconnect()

    comm, again = await hello(chat_channel, token=welcome["token"])

    assert [item["text"] for item in again["history"]] == ["chat text"]
    await comm.disconnect()


def test_the_agent_websocket_route_keeps_the_allowed_hosts_check():
    from channels.security.websocket import OriginValidator

    from helpdesk.asgi import agent_websockets

    assert isinstance(agent_websockets, OriginValidator)
    _ = IdentityFactory  # factories stay importable for the agent side
