"""A visitor chats live from a page on another origin, in a real Chromium.

The agent workspace pages are built in parallel by another engineer, so the agent side is
driven through the same services those pages call (message_reply, chat_agent_typing,
agent presence), from a second thread as a second client would.
"""

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from django.conf import settings as django_settings
from django.db import connections

from channels_app.chat.presence import agent_presence_connect
from channels_app.chat.services import chat_agent_typing
from channels_app.models import ChatChannel, Delivery, DeliveryStatus
from tests.channels_app.chat.shop import shop_site
from tests.csp import assert_no_csp_violations, csp_watch
from tickets.models import Channel, Message, Ticket
from tickets.services import message_reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
WIDGET = Path(django_settings.BASE_DIR) / "static" / "chat" / "widget.js"
T = TypeVar("T")

if not shutil.which(CHROMIUM):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


@pytest.fixture
def asgi_server() -> Iterator[str]:
    """The real ASGI app (HTTP + websockets) on an ephemeral port, in a thread."""
    from helpdesk.asgi import application

    config = uvicorn.Config(
        application, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the ASGI server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def shop_page(asgi_server: str) -> Iterator[tuple[str, Callable[[str], None]]]:
    """A customer's site on another origin, embedding the widget with its one tag."""
    with shop_site(asgi_server, extra_attrs=' data-color="#0a7d38"') as site:
        yield site


@pytest.fixture
def browser(db: None) -> Iterator[Any]:  # after the database fixtures: see agent_side
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        violations = csp_watch(browser)
        yield browser
        browser.close()
    assert_no_csp_violations(violations)


@pytest.fixture
def agent_side() -> Iterator[Callable[[Callable[[], T]], T]]:
    """Run agent actions in another thread: Playwright's sync API keeps an event loop on
    this one, where Django refuses database calls."""
    pool = ThreadPoolExecutor(max_workers=1)

    def run(fn: Callable[[], T]) -> T:
        return pool.submit(fn).result(timeout=30)

    yield run

    def close() -> None:
        connections.close_all()

    pool.submit(close).result()
    pool.shutdown()


def wait_for(agent_side: Any, query: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = agent_side(query)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_it_lets_a_visitor_chat_live_with_an_agent(
    agent, chat_channel, shop_page, agent_side, browser
):
    origin, embed = shop_page
    agent_side(
        lambda: ChatChannel.objects.filter(pk=chat_channel.pk).update(
            allowed_domains=origin.removeprefix("http://")
        )
    )
    agent_side(lambda: agent_presence_connect(team_ids=[chat_channel.team_id]))
    embed(chat_channel.key)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(origin + "/")

    launcher = page.get_by_role("button", name="Open chat")
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard only
    page.get_by_role("button", name="Skip").click()
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill("Hello, is my order shipped?")
    box.press("Enter")

    message = wait_for(
        agent_side,
        lambda: Message.objects.filter(channel=Channel.CHAT).select_related("ticket").first(),
        "the visitor's message to reach a ticket",
    )
    assert message.body_text == "Hello, is my order shipped?"
    ticket = message.ticket
    assert ticket.team_id == chat_channel.team_id

    agent_side(lambda: chat_agent_typing(ticket_id=ticket.pk, agent_name="Alex", typing=True))
    page.get_by_text("Alex is typing…").wait_for(timeout=10_000)

    reply = agent_side(
        lambda: message_reply(
            ticket=Ticket.objects.get(pk=ticket.pk), author=agent, body_text="Yes, it left today."
        )
    )
    page.get_by_text("Yes, it left today.").wait_for(timeout=10_000)
    # Sent, or already delivered: the widget confirms receipt as soon as it shows it.
    status = agent_side(lambda: Delivery.objects.get(message=reply).status)
    assert status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)

    # A returning visitor (same browser storage) sees the conversation again.
    page.reload()
    page.wait_for_selector("#helpdesk-chat[data-ready=true]", state="attached")
    agent_side(
        lambda: message_reply(
            ticket=Ticket.objects.get(pk=ticket.pk), author=agent, body_text="Anything else?"
        )
    )
    page.get_by_role("button", name="Open chat, 1 new").click()
    page.get_by_text("Anything else?").wait_for(timeout=10_000)
    page.get_by_text("Yes, it left today.").wait_for(timeout=10_000)
    page.get_by_text("Hello, is my order shipped?").wait_for(timeout=10_000)
    page.screenshot(path=str(Path(django_settings.BASE_DIR) / "var" / "test" / "chat-widget.png"))
    context.close()


def test_it_turns_into_a_message_form_when_no_agent_is_online(
    chat_channel, shop_page, agent_side, browser
):
    origin, embed = shop_page
    agent_side(
        lambda: ChatChannel.objects.filter(pk=chat_channel.pk).update(
            allowed_domains=origin.removeprefix("http://")
        )
    )
    embed(chat_channel.key)
    context = browser.new_context(viewport={"width": 390, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(origin + "/")

    page.get_by_role("button", name="Open chat").click()
    page.get_by_text("No one is online right now").wait_for(timeout=10_000)
    page.screenshot(path=str(Path(django_settings.BASE_DIR) / "var" / "test" / "chat-offline.png"))
    page.get_by_role("textbox", name="Your name").fill("Lee")
    page.get_by_label("Your email (we reply there)").fill("lee@example.net")
    page.get_by_role("textbox", name="Your message").fill("Please call me back")
    page.get_by_role("button", name="Send message").click()
    page.get_by_text("Thanks! We got your message").wait_for(timeout=10_000)

    ticket = wait_for(agent_side, lambda: Ticket.objects.first(), "the offline message")
    assert ticket.channel == Channel.WEB
    context.close()
