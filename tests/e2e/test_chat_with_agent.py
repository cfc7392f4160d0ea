"""A visitor on a shop's site chats live with an agent working the real ticket page, each
in their own Chromium context; neither page is ever reloaded."""

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from channels_app.models import ChatChannel, Delivery, DeliveryStatus
from tests.agent.conftest import login
from tests.smschat.shop import shop_site
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
    assert Delivery.objects.get(message=reply).status == DeliveryStatus.SENT

    # 3. The visitor writes again; the agent's timeline shows it live.
    expect(alex.locator("#live-status")).to_have_text("live", timeout=WAIT)
    box.fill("Great, thanks!")
    box.press("Enter")
    expect(alex.locator("#timeline")).to_contain_text("Great, thanks!", timeout=WAIT)
    expect(alex.locator("#timeline")).to_contain_text("Yes, it left today.")
    assert ticket.messages.filter(channel=Channel.CHAT).count() == 3
    visitor_context.close()
    alex.context.close()
