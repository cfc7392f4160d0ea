"""An admin sets up business hours and a policy in a real Chromium, through the admin."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tickets.models import BusinessHours, SlaPolicy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop ran used their own connection; close it
        # so the test database can be dropped at the end of the session.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_it_creates_business_hours_and_a_policy_in_the_admin(page, live_server) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@staff.example", "pw-boss-123")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-123")
    page.click("input[type=submit]")

    # Business hours with an interval that ends before it starts: refused, nothing saved.
    page.goto(f"{live_server.url}/admin/tickets/businesshours/add/")
    page.fill("#id_name", "Berlin office")
    page.fill("#id_timezone", "Europe/Berlin")
    page.select_option("#id_intervals-0-weekday", "0")
    page.fill("#id_intervals-0-start", "17:00")
    page.fill("#id_intervals-0-end", "09:00")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "before it starts at 17:00" in page.inner_text(".errorlist")
    assert not BusinessHours.objects.exists()

    # Corrected, with a second interval after lunch and a yearly holiday.
    page.fill("#id_intervals-0-start", "09:00")
    page.fill("#id_intervals-0-end", "12:30")
    page.click(".dynamic-intervals ~ .add-row a, #intervals-group .add-row a")
    page.select_option("#id_intervals-1-weekday", "0")
    page.fill("#id_intervals-1-start", "13:30")
    page.fill("#id_intervals-1-end", "17:00")
    page.fill("#id_holidays-0-date", "2026-12-25")
    page.fill("#id_holidays-0-name", "Christmas Day")
    page.check("#id_holidays-0-recurring")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")
    calendar = BusinessHours.objects.get(name="Berlin office")
    assert calendar.intervals.count() == 2 and calendar.holidays.get().recurring

    # A policy on those hours with a target for normal priority.
    page.goto(f"{live_server.url}/admin/tickets/slapolicy/add/")
    page.fill("#id_name", "Standard")
    page.select_option("#id_business_hours", str(calendar.pk))
    page.select_option("#id_targets-0-priority", "normal")
    page.fill("#id_targets-0-first_response_minutes", "60")
    page.fill("#id_targets-0-resolution_minutes", "480")
    page.click("input[name=_continue]")
    assert "a ticket created now would be due at" in page.inner_text("#sla-preview")
    policy = SlaPolicy.objects.get(name="Standard")
    assert policy.targets.get().first_response_minutes == 60
