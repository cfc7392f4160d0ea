"""A visitor on a shop's site chats live with an agent working the real workspace, each in
their own Chromium context: the header's waiting-chats counter and tab badge, the
chat-first ticket page where Enter sends, and the reply's badge turning delivered."""

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from channels_app.models import ChatChannel, Delivery, DeliveryStatus
from tests.channels_app.chat.shop import shop_site
from tests.live_server import login
from tickets.models import Channel, Direction, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.timeout(180)]
WIDGET = Path(django_settings.BASE_DIR) / "static" / "chat" / "widget.js"
WAIT = 15_000  # ms, for every wait on something that crosses the server

if not shutil.which("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


@pytest.fixture
def shop(live_url: str) -> Iterator[tuple[str, Callable[[str], None]]]:
    """The customer's site, on its own origin, embedding the widget with its one tag."""
    with shop_site(live_url) as site:
        yield site


def test_it_lets_a_visitor_and_an_agent_on_the_ticket_page_chat_live(
    live_url: str, browser: Any, shop: Any, chat_channel: ChatChannel, agent: Any
) -> None:
    origin, embed = shop
    ChatChannel.objects.filter(pk=chat_channel.pk).update(
        allowed_domains=origin.removeprefix("http://")
    )
    chat_channel.team.members.add(agent)  # so the widget counts Alex as online
    embed(chat_channel.key)

    # The agent opens the queue first: that connection is what makes the team "online".
    alex = login(browser, live_url, "alex")
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)
    expect(alex.locator("tr.ticket-row")).to_have_count(0)

    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.goto(origin + "/")
    visitor.get_by_role("button", name="Open chat").click()
    visitor.get_by_role("button", name="Skip").click()
    box = visitor.get_by_role("textbox", name="Message", exact=True)
    box.fill("Hello, is my order shipped?")
    box.press("Enter")

    # 1. The chat ticket appears in the open queue without a reload; the agent opens it.
    row = alex.locator("tr.ticket-row")
    expect(row).to_have_count(1, timeout=WAIT)
    expect(row).to_contain_text("Hello, is my order shipped?", timeout=WAIT)
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.CHAT
    assert ticket.team_id == chat_channel.team_id
    row.locator("a.subject").click()
    alex.wait_for_url(re.compile(rf"/agent/tickets/{ticket.number}/$"))
    expect(alex.locator("#timeline")).to_contain_text("Hello, is my order shipped?")
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)

    # 2. A chat ticket is answered by chat; typing shows in the widget, then the reply.
    expect(alex.locator("#composer-channel")).to_have_value("chat")
    alex.locator("#composer-body").press_sequentially("Yes, it left today.")
    expect(visitor.get_by_text("Alex is typing…")).to_be_visible(timeout=WAIT)
    alex.click("#send")
    alex.wait_for_load_state()
    expect(visitor.get_by_text("Yes, it left today.")).to_be_visible(timeout=WAIT)
    expect(visitor.get_by_text("Alex is typing…")).to_be_hidden(timeout=WAIT)
    reply = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert reply.channel == Channel.CHAT
    # The visitor's widget confirms it got the reply.
    assert Delivery.objects.get(message=reply).status in (
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
    )

    # 3. The visitor writes again; the agent's timeline shows it live.
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)
    box.fill("Great, thanks!")
    box.press("Enter")
    expect(alex.locator("#timeline")).to_contain_text("Great, thanks!", timeout=WAIT)
    expect(alex.locator("#timeline")).to_contain_text("Yes, it left today.")
    assert ticket.messages.filter(channel=Channel.CHAT).count() == 3
    visitor_context.close()
    alex.context.close()


def test_it_alerts_the_agent_and_answers_chat_first_with_enter(
    live_url: str, browser: Any, shop: Any, chat_channel: ChatChannel, agent: Any
) -> None:
    origin, embed = shop
    ChatChannel.objects.filter(pk=chat_channel.pk).update(
        allowed_domains=origin.removeprefix("http://")
    )
    chat_channel.team.members.add(agent)
    embed(chat_channel.key)
    alex = login(browser, live_url, "alex")
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)
    expect(alex.locator("#waiting-chats-text")).to_have_text("No chats waiting")
    title = alex.title()
    assert not title.startswith("(")

    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.goto(origin + "/")
    visitor.get_by_role("button", name="Open chat").click()
    visitor.get_by_role("button", name="Skip").click()
    box = visitor.get_by_role("textbox", name="Message", exact=True)
    box.fill("Is my order shipped?")
    box.press("Enter")

    # 1. The header counts the waiting chat with its wait, the tab title carries the count,
    #    and the arrival chimed (the tone itself is Web Audio: counted on the page).
    expect(alex.locator("#waiting-chats-text")).to_have_text("1 chat waiting", timeout=WAIT)
    expect(alex.locator("#waiting-chats-wait")).to_have_text(re.compile(r"^(<1|\d+) min$"))
    expect(alex).to_have_title("(1) " + title)
    expect(alex.locator("html")).to_have_attribute("data-chat-chimes", "1")
    ticket = Ticket.objects.get()

    # 2. One click opens that chat; the composer is on screen without scrolling.
    alex.click("#waiting-chats-link")
    alex.wait_for_url(re.compile(rf"/agent/tickets/{ticket.number}/$"))
    expect(alex.locator("body")).to_have_class(re.compile(r"\bchat-first\b"))
    expect(alex.locator("#timeline")).to_contain_text("Is my order shipped?")
    alex.screenshot(path=str(Path(django_settings.BASE_DIR) / "var" / "test" / "chat-first.png"))
    expect(alex.locator("#composer-body")).to_be_in_viewport()
    expect(alex.locator("#send")).to_be_in_viewport()
    assert alex.evaluate("window.scrollY") == 0
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)

    # 3. Shift+Enter is a new line; Enter sends.
    body = alex.locator("#composer-body")
    body.click()
    body.press_sequentially("Yes, it left today.")
    body.press("Shift+Enter")
    body.press_sequentially("Tracking follows.")
    expect(body).to_have_value("Yes, it left today.\nTracking follows.")
    body.press("Enter")
    alex.wait_for_url(re.compile(rf"/agent/tickets/{ticket.number}/$"))
    expect(visitor.get_by_text("Tracking follows.")).to_be_visible(timeout=WAIT)
    reply = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    assert reply.body_text.replace("\r\n", "\n") == "Yes, it left today.\nTracking follows."

    # 4. The widget confirmed it: the agent's badge says Delivered, no reload needed; the
    #    chat is answered, so the counter and the title let go of it.
    badge = alex.locator(f"#msg-{reply.pk} .delivery .badge")
    expect(badge).to_have_text("Delivered", timeout=WAIT)
    expect(badge).to_have_class(re.compile(r"\bdelivery-delivered\b"))
    assert Delivery.objects.get(message=reply).delivered_at is not None
    expect(alex.locator("#waiting-chats-text")).to_have_text("No chats waiting", timeout=WAIT)
    assert not alex.title().startswith("(")

    # 5. Muting is remembered across pages.
    alex.click("#chat-alerts-mute")
    expect(alex.locator("#chat-alerts-mute")).to_have_attribute("aria-pressed", "true")
    alex.reload()
    expect(alex.locator("#chat-alerts-mute")).to_have_attribute("aria-pressed", "true")
    visitor_context.close()
    alex.context.close()


def test_it_says_when_the_visitor_left_before_the_reply(
    live_url: str, browser: Any, shop: Any, chat_channel: ChatChannel, agent: Any
) -> None:
    origin, embed = shop
    ChatChannel.objects.filter(pk=chat_channel.pk).update(
        allowed_domains=origin.removeprefix("http://")
    )
    chat_channel.team.members.add(agent)
    embed(chat_channel.key)
    alex = login(browser, live_url, "alex")
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)
    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.goto(origin + "/")
    visitor.get_by_role("button", name="Open chat").click()
    visitor.get_by_role("button", name="Skip").click()
    box = visitor.get_by_role("textbox", name="Message", exact=True)
    box.fill("Quick question")
    box.press("Enter")
    expect(alex.locator("#waiting-chats-text")).to_have_text("1 chat waiting", timeout=WAIT)
    ticket = Ticket.objects.get()
    visitor_context.close()  # the visitor leaves

    alex.click("#waiting-chats-link")
    alex.wait_for_url(re.compile(rf"/agent/tickets/{ticket.number}/$"))
    alex.locator("#composer-body").fill("Sorry for the wait!")
    alex.locator("#composer-body").press("Enter")
    alex.wait_for_url(re.compile(rf"/agent/tickets/{ticket.number}/$"))

    reply = Message.objects.get(ticket=ticket, direction=Direction.OUTBOUND)
    badge = alex.locator(f"#msg-{reply.pk} .delivery .badge")
    expect(badge).to_have_text("Undelivered", timeout=WAIT)
    expect(badge).to_have_attribute("title", re.compile("closed the chat"))
    alex.context.close()
