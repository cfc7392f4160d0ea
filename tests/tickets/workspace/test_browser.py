"""The agent workspace in a real Chromium against a live ASGI server, SMTP and Redis."""

import re
import threading
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, IdentityFactory, TicketFactory
from tests.live_server import login
from tickets.models import Channel, Direction, IdentityKind, Macro, Message, Ticket
from tickets.workspace.presence import PRESENCE_HEARTBEAT

# Milliseconds: one heartbeat and a margin.
PRESENCE_WAIT = (PRESENCE_HEARTBEAT + 5) * 1000

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.timeout(180)]


def off_loop(fn: Any, **kwargs: Any) -> Any:
    """Run a service in its own thread: sync Playwright keeps an event loop in this one,
    where the services' on-commit publish (async_to_sync) cannot run."""
    from django.db import connection

    result: list[Any] = []

    def work() -> None:
        try:
            result.append(fn(**kwargs))
        finally:
            connection.close()  # this thread's own connection: the database is dropped later

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    return result[0]


def _ticket(subject: str, body: str, customer: Any, **fields: Any) -> Ticket:
    ticket = TicketFactory(subject=subject, customer=customer, status="open", **fields)
    identity = customer.identities.first()
    Message.objects.create(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        author_identity=identity,
        body_text=body,
    )
    return ticket


def test_it_works_a_ticket_live_from_queue_to_pending_reply(
    live_url: str, browser: Any, smtp_sink: Any, customer: Any, agent: Any, other_agent: Any
) -> None:
    lamp = _ticket("Lamp arrived broken", "The lamp is cracked.", customer, priority="high")
    _ticket("Invoice question", "Where is my invoice?", customer, priority="low")
    Macro.objects.create(
        name="Shipping apology",
        body="Hi {{ customer.first_name }}, sorry about the damage.",
        add_tags="shipping",
    )

    alex = login(browser, live_url, "alex")
    expect(alex.locator("tr.ticket-row")).to_have_count(2)
    alex.click("label.chip:has(#f-priority-high)")
    alex.click("#apply-filters")
    expect(alex.locator("tr.ticket-row")).to_have_count(1)
    expect(alex.locator("tr.ticket-row")).to_contain_text("Lamp arrived broken")
    alex.click("tr.ticket-row a.subject")
    # The link carries the filtered view it was opened from.
    alex.wait_for_url(re.compile(rf"/agent/tickets/{lamp.number}/\?from=.*priority%3Dhigh"))
    expect(alex.locator("#live-status")).to_have_text("live")

    sam = login(browser, live_url, "sam")
    sam.goto(f"{live_url}/agent/tickets/{lamp.number}/")
    expect(sam.locator("#live-status")).to_have_text("live")
    # Presence is promised within one heartbeat, not at once (tickets/workspace/presence.py):
    # the next beat restores a lost write or a missed broadcast. Late in the full embedded
    # run one goes missing for a cause not yet found; this waits for the beat, not for it.
    expect(sam.locator("#presence")).to_contain_text("Alex is viewing", timeout=PRESENCE_WAIT)

    alex.fill("#macro-search", "apology")
    alex.click(".macro-option:has-text('Shipping apology')")
    expect(alex.locator("#composer-body")).to_have_value("Hi Dana, sorry about the damage.")
    alex.locator("#composer-body").press("End")
    alex.locator("#composer-body").type(" A new one ships today.")
    expect(sam.locator("#presence")).to_contain_text("Alex is replying", timeout=PRESENCE_WAIT)

    alex.select_option("#after-send", "stay")  # rather than the view's next ticket
    alex.click("#send-pending")
    alex.wait_for_load_state()
    expect(alex.locator("#h-status")).to_have_value("pending")

    # Sam never reloads: the reply, the status and the tag arrive through the websocket.
    expect(sam.locator("#timeline")).to_contain_text("A new one ships today.")
    expect(sam.locator("#h-status")).to_have_value("pending")
    expect(sam.locator("#ticket-header")).to_contain_text("shipping")

    lamp.refresh_from_db()
    assert lamp.status == "pending"
    assert list(lamp.tags.values_list("name", flat=True)) == ["shipping"]
    mails = smtp_sink.texts()
    assert len(mails) == 1
    assert "To: dana@example.com" in mails[0]
    assert "Hi Dana, sorry about the damage. A new one ships today." in mails[0]
    assert smtp_sink.envelopes[0].rcpt_tos == ["dana@example.com"]


def test_it_shows_new_tickets_and_counts_in_an_open_queue(
    live_url: str, browser: Any, customer: Any, agent: Any
) -> None:
    from tickets.services import ticket_create

    page = login(browser, live_url, "alex")
    expect(page.locator("#live-status")).to_have_text("live")
    expect(page.locator('[data-count="open"]')).to_have_text("0")
    page.wait_for_timeout(300)  # the subscriptions go out right after the socket opens
    off_loop(ticket_create, customer=customer, subject="Fresh from the web form", channel="web")
    expect(page.locator("tr.ticket-row")).to_contain_text("Fresh from the web form")
    expect(page.locator('[data-count="open"]')).to_have_text("1")


def test_it_warns_the_composer_when_a_customer_writes_meanwhile(
    live_url: str, browser: Any, customer: Any, agent: Any
) -> None:
    ticket = _ticket("Refund", "I want a refund.", customer)
    page = login(browser, live_url, "alex")
    page.goto(f"{live_url}/agent/tickets/{ticket.number}/")
    expect(page.locator("#live-status")).to_have_text("live")
    page.fill("#composer-body", "Refund approved.")
    page.select_option("#after-send", "stay")
    page.wait_for_timeout(300)
    from channels_app.ingest import inbound_message_ingest
    from tests.conftest import inbound

    off_loop(
        inbound_message_ingest,
        message=inbound(
            external_id="late-1",
            text="Actually, never mind!",
            subject="Re: Refund",
            ticket_reference=str(ticket.number),
        ),
    )
    expect(page.locator("#timeline")).to_contain_text("Actually, never mind!")
    expect(page.locator("#collision-warning")).to_be_visible()
    page.click("#send")
    assert Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND).count() == 0
    page.click("#send")
    page.wait_for_load_state()
    expect(page.locator("#timeline")).to_contain_text("Refund approved.")


def test_it_triages_with_the_keyboard(
    live_url: str, browser: Any, customer: Any, agent: Any
) -> None:
    from tickets.workspace.services import agent_preference_set

    ticket = _ticket("Keyboard only", "Please help.", customer)
    agent_preference_set(user=agent, after_send="stay")
    page = login(browser, live_url, "alex")
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#f-q")).to_be_focused()
    page.locator("#f-q").press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    expect(page.locator("tr.ticket-row.selected")).to_have_count(1)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/agent/tickets/{ticket.number}/(\?.*)?$"))
    with page.expect_response(re.compile(r"/update/$")):  # after the 5 s undo window
        page.keyboard.press("a")
    expect(page.locator("#h-assignee")).to_have_value(str(agent.pk))
    page.keyboard.press("n")
    expect(page.locator("#composer-body")).to_be_focused()
    expect(page.locator("#kind-note")).to_be_checked()
    page.keyboard.press("r")  # typed into the focused box, not a shortcut
    page.locator("#composer-body").fill("")
    page.locator("#composer-body").press("Escape")
    page.locator("#timeline").click()
    page.keyboard.press("r")
    expect(page.locator("#kind-reply")).to_be_checked()
    page.keyboard.type("Fixed it for you.")
    page.keyboard.press("Control+Enter")
    page.wait_for_load_state()
    expect(page.locator("#timeline")).to_contain_text("Fixed it for you.")
    page.locator("#timeline").click()
    with page.expect_response(re.compile(r"/update/$")):
        page.keyboard.press("s")
    expect(page.locator("#h-status")).to_have_value("solved")
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (agent.pk, "solved")
    assert ticket.messages.filter(direction=Direction.OUTBOUND, is_internal=False).count() == 1


XSS = {
    "name": '<img src=x onerror="alert(1)">Mallory',
    "subject": "<script>alert(2)</script><svg onload=alert(3)>",
    "body": '"><img src=x onerror=alert(4)><script>alert(5)</script>',
}


def test_it_keeps_xss_payloads_inert_on_every_agent_page(
    live_url: str, browser: Any, agent: Any
) -> None:
    evil = CustomerFactory(name=XSS["name"])
    IdentityFactory(customer=evil, kind=IdentityKind.EMAIL, value="mallory@example.com")
    ticket = _ticket(XSS["subject"], XSS["body"], evil)
    other = _ticket("Second " + XSS["subject"], XSS["body"], evil)
    Macro.objects.create(name=XSS["subject"], body="Hi {{ customer.name }}")
    page = login(browser, live_url, "alex")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    urls = [
        "/agent/",
        "/agent/?view=open&q=mallory%40example.com",
        f"/agent/tickets/{ticket.number}/",
        f"/agent/tickets/{ticket.number}/?macro={Macro.objects.get(name=XSS['subject']).pk}",
        f"/agent/tickets/{ticket.number}/merge/?q=Second&into={other.number}",
        f"/agent/customers/{evil.pk}/merge/?q=mallory&ticket={other.number}",
        f"/agent/tickets/{ticket.number}/timeline/?since=2000-01-01T00:00:00%2B00:00",
    ]
    for url in urls:
        page.goto(live_url + url)
        page.wait_for_timeout(200)
    page.goto(f"{live_url}/agent/tickets/{ticket.number}/")
    page.click(".macro-option")
    expect(page.locator("#composer-body")).to_have_value(f"Hi {XSS['name']}")
    expect(page.locator(".customer-name")).to_have_text(XSS["name"])
    expect(page.locator(".subject-input")).to_have_value(XSS["subject"])
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.locator("#timeline script, #timeline img, .ticket-side img").count() == 0


def test_it_resyncs_what_it_missed_while_offline_without_duplicates(
    live_url: str, browser: Any, customer: Any, agent: Any, other_agent: Any
) -> None:
    from tickets.services import message_reply

    ticket = _ticket("Offline", "Are you there?", customer)
    page = login(browser, live_url, "alex")
    page.goto(f"{live_url}/agent/tickets/{ticket.number}/")
    expect(page.locator("#live-status")).to_have_text("live")
    page.evaluate("HelpdeskLive.pause()")
    expect(page.locator("#live-status")).to_have_text("offline")
    reply = off_loop(
        message_reply, ticket=ticket, author=other_agent, body_text="Sam answered meanwhile",
        channel="email",
    )  # fmt: skip
    page.wait_for_timeout(300)
    expect(page.locator("#timeline")).not_to_contain_text("Sam answered meanwhile")
    page.evaluate("HelpdeskLive.resume()")
    expect(page.locator("#timeline")).to_contain_text("Sam answered meanwhile")
    expect(page.locator("#h-status")).to_have_value("open")
    page.evaluate("HelpdeskLive.pause()")  # a second resync over the same window...
    page.evaluate("HelpdeskLive.resume()")
    expect(page.locator("#live-status")).to_have_text("live")
    page.wait_for_timeout(500)
    assert page.locator(f"#msg-{reply.pk}").count() == 1  # ...adds nothing twice
