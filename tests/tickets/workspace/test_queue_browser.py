"""The queue page and the top bar's search in a real Chromium: the layout at 1280, 1440 and
phone widths, selection and the bulk bar, results as you type."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, TicketFactory
from tests.live_server import login
from tickets.models import Channel, Direction, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.timeout(180)]

LONG = "Order arrived with the wrong colour and a cracked lid, and nobody answers the phone"


def _tickets(n: int) -> list[Ticket]:
    customer = CustomerFactory(name="Maximiliana Featherstonehaugh-Worthington")
    made = []
    for i in range(n):
        ticket = TicketFactory(subject=f"{LONG} {i}", customer=customer, status="open")
        Message.objects.create(
            ticket=ticket,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            body_text="A long first message that goes on and on about the order " * 3,
        )
        made.append(ticket)
    return made


def _queue(browser: Any, live_url: str, width: int, height: int) -> Any:
    page = login(browser, live_url, "alex")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_url}/agent/?view=open")
    return page


def test_it_fits_the_queue_in_a_1280_px_window(live_url: str, browser: Any, agent: Any) -> None:
    tickets = _tickets(3)
    page = _queue(browser, live_url, 1280, 800)
    expect(page.locator("tr.ticket-row")).to_have_count(3)
    sizes = page.evaluate(
        """() => {
        const main = document.querySelector('.queue-main');
        const table = document.querySelector('.queue-table');
        const cell = document.querySelector('tr.ticket-row .subject-cell');
        return {page: document.documentElement.scrollWidth, window: innerWidth,
                table: table.scrollWidth, main: main.clientWidth,
                cut: cell.scrollWidth > cell.clientWidth};
    }"""
    )
    assert sizes["page"] <= sizes["window"], sizes
    assert sizes["table"] <= sizes["main"], sizes
    assert sizes["cut"], "the long subject ends in an ellipsis"
    cell = page.locator(f'tr[data-ticket-id="{tickets[0].pk}"] .subject-cell')
    expect(cell).to_have_attribute("title", re.compile(re.escape(f"{LONG} 0")))
    customer = page.locator(f'tr[data-ticket-id="{tickets[0].pk}"] .customer-cell')
    expect(customer).to_have_attribute("title", "Maximiliana Featherstonehaugh-Worthington")


def test_it_shows_15_rows_above_the_fold_at_1440_by_900(
    live_url: str, browser: Any, agent: Any
) -> None:
    _tickets(25)
    page = _queue(browser, live_url, 1440, 900)
    expect(page.locator("tr.ticket-row")).to_have_count(25)
    visible = page.evaluate(
        "() => [...document.querySelectorAll('tr.ticket-row')]"
        ".filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible >= 15


def test_it_shows_the_bulk_bar_only_while_tickets_are_selected(
    live_url: str, browser: Any, agent: Any
) -> None:
    tickets = _tickets(3)
    page = _queue(browser, live_url, 1280, 800)
    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()
    first = page.locator(f'input[name=ids][value="{tickets[0].pk}"]')
    first.check()
    expect(bar).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("1 ticket selected:")
    expect(page.locator("#bulk-action")).to_have_value("")  # nothing chosen for the agent
    first.uncheck()
    expect(bar).to_be_hidden()
    page.check("#select-all")
    expect(page.locator("input[name=ids]:checked")).to_have_count(3)
    expect(page.locator("#bulk-count")).to_have_text("3 tickets selected:")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-error")).to_have_text("Choose an action.")
    page.select_option("#bulk-action", "assign")
    assignee = page.locator("#bulk-form select[name=assignee]")
    expect(assignee).to_be_visible()
    expect(assignee).to_have_value("")
    expect(page.locator("#bulk-form select[name=status]")).to_be_hidden()
    page.click("#bulk-apply")
    expect(page.locator("#bulk-error")).to_have_text("Choose who gets them first.")
    assert Ticket.objects.filter(assignee__isnull=False).count() == 0
    assignee.select_option(str(agent.pk))
    page.click("#bulk-apply")
    expect(page.locator(".flash")).to_contain_text("Updated 3 ticket(s).")
    assert Ticket.objects.filter(assignee=agent).count() == 3
    expect(page.locator("#bulk-form")).to_be_hidden()  # the page came back with none selected


def test_it_searches_as_you_type_and_opens_a_number(
    live_url: str, browser: Any, agent: Any, customer: Any
) -> None:
    jam = TicketFactory(subject="Printer <b>jammed</b>", customer=customer, status="solved")
    other = TicketFactory(subject="Refund please", customer=customer, status="open")
    page = login(browser, live_url, "alex")
    search = page.locator("#global-search")
    search.press_sequentially("printr", delay=20)  # a typo
    results = page.locator("#global-search-results")
    expect(results).to_be_visible()
    hit = results.locator(".search-hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text(f"#{jam.number}")
    expect(hit.locator("mark")).to_have_text("Printer")
    expect(hit.locator(".hit-subject")).to_have_text("Printer <b>jammed</b>")  # text, not HTML
    search.press("Escape")
    expect(results).to_be_hidden()
    search.press("ArrowDown")
    expect(results.locator('[aria-selected="true"]')).to_have_count(1)
    search.press("Enter")
    page.wait_for_url(re.compile(rf"/agent/tickets/{jam.number}/$"))
    page.locator("#global-search").fill(f"#{other.number}")
    page.locator("#global-search").press("Enter")
    page.wait_for_url(re.compile(rf"/agent/tickets/{other.number}/$"))
    page.locator("#global-search").fill("refund")
    page.locator("#global-search").press("Enter")  # nothing picked: every result, listed
    page.wait_for_url(re.compile(r"/agent/\?view=all&q=refund$"))
    expect(page.locator("tr.ticket-row")).to_have_count(1)


def test_it_puts_tickets_before_filters_on_a_phone(live_url: str, browser: Any, agent: Any) -> None:
    tickets = _tickets(4)
    page = _queue(browser, live_url, 390, 844)
    row = page.locator(f'tr[data-ticket-id="{tickets[-1].pk}"]')
    expect(row).to_be_in_viewport()
    expect(page.locator("#filter-form")).to_be_hidden()
    subject = row.locator(".subject-cell")
    cut = subject.evaluate("c => c.scrollWidth > c.clientWidth")
    assert not cut, "the whole subject shows on a phone"
    expect(subject).to_contain_text(f"{LONG} 3")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("#filters-toggle")
    expect(page.locator("#filter-form")).to_be_visible()
    expect(page.locator("#f-q")).to_be_focused()
    page.click("#filters-close")
    expect(page.locator("#filter-form")).to_be_hidden()
    search = page.locator("#global-search")
    expect(search).to_be_in_viewport()
    box = search.bounding_box()
    assert box is not None and box["width"] >= 300
    search.press_sequentially("cracked", delay=20)
    expect(page.locator("#global-search-results .search-hit").first).to_be_visible()


def test_it_shows_a_long_subject_whole_on_a_phone_and_saves_it_with_enter(
    live_url: str, browser: Any, agent: Any
) -> None:
    ticket = _tickets(1)[0]
    page = login(browser, live_url, "alex")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/agent/tickets/{ticket.number}/")
    box = page.locator(".subject-input")
    expect(box).to_have_value(f"{LONG} 0")
    hidden = box.evaluate(
        "b => b.scrollHeight > b.clientHeight + 1 || b.scrollWidth > b.clientWidth"
    )
    assert not hidden, "the whole subject shows: the box wraps and grows"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    box.fill("Lid cracked\nsend a new one")
    box.press("Enter")

    expect(page.locator(".subject-input")).to_have_value("Lid cracked send a new one")
    ticket.refresh_from_db()
    assert ticket.subject == "Lid cracked send a new one"
