"""A new customer, in a real browser: searches the help centre, sees a suggestion while
writing, submits the web form with an attachment, follows the magic link from the
acknowledgement email, replies, and rates the ticket after an agent solves it."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from knowledge_base.demo import kb_demo_seed
from tests.csp import assert_no_csp_violations, csp_watch
from tests.factories import PNG, AgentFactory
from tickets.models import Attachment, SatisfactionRating, Status, Ticket
from tickets.services import ticket_set_status

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are ordinary blocking calls, never inside that loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        violations = csp_watch(browser)
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()
    assert_no_csp_violations(violations)


def _link(body: str, path: str, base: str) -> str:
    return base + re.search(rf"https?://[^/\s]+({path}\S+)", body).group(1)


def test_it_takes_a_new_customer_from_search_to_rating(page, live_server, settings, tmp_path):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.HELPDESK_CSAT_DELAY = 0  # the rating request right after the solve
    cache.clear()  # rate-limit counters from earlier runs live in Redis
    kb_demo_seed()
    base = live_server.url

    # The help centre answers searches.
    page.goto(f"{base}/kb/")
    page.fill("input[name=q]", "reset password")
    page.click("form.kb-search button")
    page.wait_for_selector("text=How to reset your password")

    # Typing a subject suggests articles (htmx, debounced).
    page.goto(f"{base}/support/new/")
    page.fill("#id_name", "Casey Newcomer")
    page.fill("#id_email", "casey@example.com")
    page.locator("#id_subject").press_sequentially("parcel never arrived", delay=20)
    page.wait_for_selector("#suggestions >> text=My parcel is marked delivered")

    # Submitting with an attachment creates the ticket.
    shot = tmp_path / "label.png"
    shot.write_bytes(PNG)
    page.fill("#id_description", "Tracking says delivered, but nothing is here.")
    page.set_input_files("#id_attachments", str(shot))
    page.click("form.support-form button[type=submit]")
    page.wait_for_selector(".ticket-ref")
    ticket = Ticket.objects.get()
    assert page.inner_text(".ticket-ref") == f"#{ticket.number}"
    assert Attachment.objects.get().filename == "label.png"

    # The acknowledgement email carries the magic link; it opens the ticket.
    ack = next(m for m in mail.outbox if "We received your request" in m.subject)
    page.goto(_link(ack.body, "/portal/login/", base))
    page.click("#portal-continue")  # a link signs in once, on this click, not on opening
    page.wait_for_selector(f"h1:has-text('#{ticket.number}')")
    assert "Tracking says delivered" in page.inner_text(".conversation")
    assert page.is_visible("text=label.png")

    # The customer replies.
    page.fill("#id_body", "The neighbour does not have it either.")
    page.click("text=Send reply")
    page.wait_for_selector("text=Your reply was sent.")
    assert "The neighbour does not have it either." in page.inner_text(".conversation")

    # An agent solves it; the customer gets a rating link and rates.
    agent = AgentFactory(username="alex", first_name="Alex")
    ticket_set_status(ticket=Ticket.objects.get(), status=Status.SOLVED, actor=agent)
    csat = next(m for m in mail.outbox if "How did we do" in m.subject)
    page.goto(_link(csat.body, "/portal/rate/", base))
    page.check("input[name=score][value='5']")
    page.fill("#id_comment", "Fast and friendly")
    page.click("text=Send rating")
    page.wait_for_selector("text=Thanks for your rating")
    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.comment, rating.ticket_id) == (5, "Fast and friendly", ticket.pk)
