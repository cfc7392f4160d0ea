"""The embedded default's channel layer: in memory in the web server, relayed elsewhere.

Without Redis the channel layer lives in the memory of one process, the ASGI server that
holds the websockets. The Celery worker and beat are other processes: what they publish
(an agent's chat reply delivered by the worker, a ticket ingested from IMAP, an SLA
warning) would reach no socket. So in those processes this layer sends each message to
the web server over loopback HTTP instead, signed with a key derived from SECRET_KEY,
and the server hands it to its own in-memory layer. `serve_all` tells its worker and beat
where the server listens (HELPDESK_LAYER_RELAY_URL); without that setting, or in the web
server itself, it is the plain in-memory layer.
"""

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

from channels.layers import InMemoryChannelLayer
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import constant_time_compare, salted_hmac

RELAY_PATH = "/internal/layer-relay"
RELAY_HEADER = "X-Helpdesk-Relay"
RELAY_TIMEOUT = 2.0
# A signed request older (or newer) than this is refused: a captured one can't be replayed.
MAX_SKEW_SECONDS = 60
_SALT = "helpdesk.lib.layers.relay"


class RelayError(Exception):
    """The web server did not accept a relayed message."""


def relay_signature(body: bytes, timestamp: int) -> str:
    mac = salted_hmac(_SALT, f"{timestamp}.".encode() + body, algorithm="sha256")
    return f"{timestamp}:{mac.hexdigest()}"


def relay_signature_valid(body: bytes, header: str, now: float | None = None) -> bool:
    stamp, _, digest = header.partition(":")
    if not stamp.isdigit() or not digest:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > MAX_SKEW_SECONDS:
        return False
    return constant_time_compare(relay_signature(body, int(stamp)), header)


class RelayedInMemoryChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer that, given a relay_url, sends to the web server instead."""

    def __init__(self, relay_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if relay_url and not relay_url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"HELPDESK_LAYER_RELAY_URL must be http(s), not {relay_url!r}"
            )
        self.relay_url = relay_url.rstrip("/")

    @property
    def process_local(self) -> bool:
        """True where messages are delivered in this process (the web server)."""
        return not self.relay_url

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if self.process_local:
            await super().send(channel, message)
        else:
            await self._relay({"op": "send", "to": channel, "message": message})

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.process_local:
            await super().group_send(group, message)
        else:
            self.require_valid_group_name(group)
            await self._relay({"op": "group_send", "to": group, "message": message})

    async def _relay(self, envelope: dict[str, Any]) -> None:
        await asyncio.to_thread(self._post, json.dumps(envelope).encode())

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 (http(s) only: checked in __init__)
            self.relay_url + RELAY_PATH,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                RELAY_HEADER: relay_signature(body, int(time.time())),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=RELAY_TIMEOUT) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise RelayError(f"the web server refused the message ({exc.code})") from exc
        except OSError as exc:  # refused, timed out: the web server is down or restarting
            raise RelayError(f"the web server is not answering: {exc}") from exc


def relay_accepting_layer() -> RelayedInMemoryChannelLayer | None:
    """This process's layer when it should accept relayed messages, else None."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if isinstance(layer, RelayedInMemoryChannelLayer) and layer.process_local:
        return layer
    return None


def relay_url_for(host: str, port: str) -> str:
    """Where a child process reaches the web server that `serve_all` starts."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (every interface: loopback is one)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
