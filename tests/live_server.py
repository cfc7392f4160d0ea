"""A real ASGI server (uvicorn) in a thread, and a real SMTP server (aiosmtpd), both on
ephemeral loopback ports, for the browser tests; the Chromium flags and the sign-in they
share. The fixtures built on these (live_url, browser, smtp_sink) are in tests/conftest.py."""

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope


def free_port() -> int:
    """A loopback port free right now (for a server that must be told its port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def asgi_app() -> Any:
    # Built here, after the test's settings overrides, so the middleware reads them.
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application

    from helpdesk.asgi import CHAT_PREFIX
    from helpdesk.routing import chat_websocket_urlpatterns, websocket_urlpatterns

    agent_websockets = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    # As in helpdesk/asgi.py: the chat widget's socket has no session and checks origins
    # itself, so the end-to-end chat test can talk to the same server as the agent pages.
    chat_websockets = URLRouter(chat_websocket_urlpatterns)

    async def websocket_app(scope: Any, receive: Any, send: Any) -> None:
        app = chat_websockets if scope["path"].startswith(CHAT_PREFIX) else agent_websockets
        await app(scope, receive, send)

    return ProtocolTypeRouter({"http": get_asgi_application(), "websocket": websocket_app})


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app, lifespan="off", log_level="warning", ws="websockets-sansio", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 15 s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class SmtpSink:
    """Accepts every message and keeps the envelopes."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> "SmtpSink":
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(lambda: SMTP(self, hostname="127.0.0.1"), "127.0.0.1", 0),
            self.loop,
        )
        self.server = future.result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def texts(self) -> list[str]:
        return [e.content.decode("utf-8", "replace") for e in self.envelopes]  # type: ignore[union-attr]


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def login(browser: Any, live_url: str, username: str) -> Any:
    """A fresh browser context logged in through the login form (the factories' password)."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_url}/agent/")
    assert "/agent/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/agent/")
    return page


def close_executor_connections() -> None:
    """Close the database connection of asgiref's shared sync thread, where consumers and
    ASGI views ran: otherwise it outlives the test and blocks dropping the test database."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    worker = threading.Thread(target=lambda: asyncio.run(sync_to_async(connections.close_all)()))
    worker.start()
    worker.join(10)
