"""The embedded default's channel layer: the worker and beat relay to the web server.

Without Redis the layer is in the web server's memory; what another process publishes
goes there over signed loopback HTTP (helpdesk/lib/layers.py)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test import AsyncClient

from channels_app.chat.sender import chat_visitor_group, send_chat
from channels_app.chat.services import visitor_token_read
from channels_app.senders import TemporaryDeliveryError
from helpdesk.lib.layers import (
    RELAY_HEADER,
    RELAY_PATH,
    RelayedInMemoryChannelLayer,
    RelayError,
    relay_signature,
    relay_url_for,
)
from tests.factories import TicketFactory
from tickets.models import Message

RELAY_LAYERS = {"default": {"BACKEND": "helpdesk.lib.layers.RelayedInMemoryChannelLayer"}}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def relay_layers(settings: Any) -> Any:
    settings.CHANNEL_LAYERS = RELAY_LAYERS  # channels resets its layers on the change
    yield get_channel_layer()


def signed(body: bytes, at: float | None = None) -> dict[str, str]:
    return {RELAY_HEADER: relay_signature(body, int(time.time() if at is None else at))}


def envelope(to: str, op: str = "group_send", text: str = "hi") -> bytes:
    return json.dumps({"op": op, "to": to, "message": {"type": "x.y", "text": text}}).encode()


async def nothing_for(layer: Any, channel: str) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.2)
    except TimeoutError:
        return True
    return False


async def test_the_web_server_hands_a_signed_message_to_its_groups(relay_layers):
    channel = await relay_layers.new_channel()
    await relay_layers.group_add("ticket.7", channel)
    body = envelope("ticket.7")

    response = await AsyncClient().post(
        RELAY_PATH, body, content_type="application/json", headers=signed(body)
    )

    assert response.status_code == 204
    assert await asyncio.wait_for(relay_layers.receive(channel), 5) == {
        "type": "x.y",
        "text": "hi",
    }


async def test_it_also_sends_to_one_channel(relay_layers):
    channel = await relay_layers.new_channel()
    body = envelope(channel, op="send")

    response = await AsyncClient().post(
        RELAY_PATH, body, content_type="application/json", headers=signed(body)
    )

    assert response.status_code == 204
    assert (await asyncio.wait_for(relay_layers.receive(channel), 5))["text"] == "hi"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {RELAY_HEADER: "garbage"},
        {RELAY_HEADER: f"{int(time.time())}:{'0' * 64}"},
        "stale",
        "other-body",
    ],
    ids=["missing", "malformed", "forged", "stale", "signed-for-another-body"],
)
async def test_it_refuses_a_missing_forged_or_replayed_signature(relay_layers, headers):
    channel = await relay_layers.new_channel()
    await relay_layers.group_add("ticket.7", channel)
    body = envelope("ticket.7")
    if headers == "stale":
        headers = signed(body, at=time.time() - 120)
    elif headers == "other-body":
        headers = signed(envelope("ticket.7", text="something else"))

    response = await AsyncClient().post(
        RELAY_PATH, body, content_type="application/json", headers=headers
    )

    assert response.status_code == 403
    assert await nothing_for(relay_layers, channel)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"op": "group_add", "to": "g", "message": {}}', b'{"op": "send"}'],
)
async def test_it_explains_a_malformed_envelope(relay_layers, body):
    response = await AsyncClient().post(
        RELAY_PATH, body, content_type="application/json", headers=signed(body)
    )

    assert response.status_code == 400
    assert "op, to, message" in response.json()["error"]


async def test_a_server_on_redis_relays_nothing():
    body = envelope("ticket.7")

    response = await AsyncClient().post(
        RELAY_PATH, body, content_type="application/json", headers=signed(body)
    )

    assert response.status_code == 404


def test_only_posts_are_taken(client, relay_layers):
    assert client.get(RELAY_PATH).status_code == 405


def test_children_reach_a_server_bound_to_every_interface_on_loopback():
    assert relay_url_for("0.0.0.0", "8000")  # noqa: S104 (what the user passed) == "http://127.0.0.1:8000"
    assert relay_url_for("::1", "8000") == "http://[::1]:8000"
    assert relay_url_for("localhost", "9000") == "http://localhost:9000"


@pytest.mark.django_db
def test_a_chat_reply_the_web_server_did_not_take_is_retried_later(settings):
    # The worker's layer, with the web server down (nothing listens on the discard port).
    settings.CHANNEL_LAYERS = {
        "default": {**RELAY_LAYERS["default"], "CONFIG": {"relay_url": "http://127.0.0.1:9"}}
    }
    layer = get_channel_layer()
    assert isinstance(layer, RelayedInMemoryChannelLayer) and not layer.process_local
    with pytest.raises(RelayError, match="not answering"):
        async_to_sync(layer.group_send)("chat.visitor.v1", {"type": "chat.message"})

    reply = Message.objects.create(
        ticket=TicketFactory(), direction="outbound", channel="chat", body_text="Hello"
    )
    delivery = reply.deliveries.create(channel="chat", recipient="v1")
    with pytest.raises(TemporaryDeliveryError, match="chat server"):
        send_chat(delivery)


def test_what_the_worker_publishes_reaches_a_visitors_socket_on_the_web_server(
    live_url, relay_layers, settings
):
    """Two processes, as `make run` has them: uvicorn (here in a thread of the test
    process) holds the visitor's websocket; a separate Python process, configured as
    serve_all configures the worker, publishes a chat message to the visitor's group."""
    from websockets.sync.client import connect

    from channels_app.models import ChatChannel
    from tests.factories import TeamFactory

    channel = ChatChannel.objects.create(
        name="Website", allowed_domains="shop.example.com", team=TeamFactory()
    )
    ws_url = live_url.replace("http://", "ws://") + f"/ws/chat/?channel={channel.key}"
    with connect(ws_url, origin="https://shop.example.com") as socket:  # type: ignore[arg-type]
        socket.send(json.dumps({"type": "hello"}))
        welcome = json.loads(socket.recv(timeout=10))
        visitor = visitor_token_read(token=welcome["token"], channel=channel)
        script = (
            "import django; django.setup()\n"
            "from asgiref.sync import async_to_sync\n"
            "from channels.layers import get_channel_layer\n"
            "layer = get_channel_layer()\n"
            "assert not layer.process_local, layer\n"
            f"async_to_sync(layer.group_send)({chat_visitor_group(visitor)!r}, "
            "{'type': 'chat.message', 'message': {'id': 'm1', 'text': 'From the worker'}})\n"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "REDIS_URL": "",  # the embedded default
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            "HELPDESK_LAYER_RELAY_URL": live_url,
        }
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]

        pushed = json.loads(socket.recv(timeout=10))

    assert pushed == {"type": "message", "id": "m1", "text": "From the worker"}
