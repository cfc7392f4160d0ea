"""A real HTTP receiver on a loopback port, in a thread: it records what arrives and
answers as a test scripts it (a status, or a pause longer than the desk waits)."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tickets.integrations.webhooks.services import webhook_create


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        # Answers to give, in order; then 200. An int is a status; ("slow", seconds)
        # waits before answering; ("redirect", url) answers 302; ("echo", None) answers
        # 200 with the request's body.
        self.script: list[Any] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    step = receiver.script.pop(0) if receiver.script else 200
                if isinstance(step, tuple) and step[0] == "slow":
                    time.sleep(step[1])
                    step = 200
                echo = isinstance(step, tuple) and step[0] == "echo"
                if echo:
                    step = 200
                location = ""
                if isinstance(step, tuple) and step[0] == "redirect":
                    step, location = 302, step[1]
                try:
                    self.send_response(step)
                    if location:
                        self.send_header("Location", location)
                    answer = b'{"ok": true}' if step < 300 else b"receiver says no"
                    if echo:
                        answer = body
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the desk gave up waiting and hung up

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks/desk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_private(settings: Any) -> Any:
    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = True
    settings.HELPDESK_WEBHOOK_READ_TIMEOUT = 0.5
    return settings


@pytest.fixture
def receiver(allow_private: Any) -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def down_url(allow_private: Any) -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    down = Receiver()
    url = down.url
    down.server.server_close()
    return url


@pytest.fixture
def hook(receiver: Receiver, admin_user: Any) -> Any:
    """A webhook on the receiver for every event type, with its secret."""
    from tickets.integrations.models import WebhookEvent

    return webhook_create(
        name="CRM", url=receiver.url, events=WebhookEvent.values, created_by=admin_user
    )
