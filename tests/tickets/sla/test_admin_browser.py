"""An admin sets up business hours (the week grid: preset, copy, an added stretch) and a
policy with hours-and-minutes targets in a real Chromium, through the admin."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tests.csp import assert_no_csp_violations, csp_watch
from tickets.models import BusinessHours, SlaPolicy

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.django_db(transaction=True)]

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
        violations = csp_watch(browser)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        assert_no_csp_violations(violations)
        # ORM calls made while Playwright's loop ran used their own connection; close it
        # so the test database can be dropped at the end of the session.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_in(page: Any, base: str) -> None:
    from django.contrib.auth import get_user_model

    from tests.twofa import enrol, totp_code

    boss = get_user_model().objects.create_superuser("boss", "boss@staff.example", "pw-boss-123")
    device = enrol(boss)  # admins sign in with a second factor
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-123")
    page.click("input[type=submit]")
    page.fill("#id_code", totp_code(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def week(calendar: BusinessHours) -> list[tuple[int, str, str]]:
    return [
        (i.weekday, f"{i.start:%H:%M}", f"{i.end:%H:%M}")
        for i in calendar.intervals.order_by("weekday", "start")
    ]


def test_it_creates_business_hours_and_a_policy_in_the_admin(page, live_server) -> None:
    sign_in(page, live_server.url)

    # An end before the start: refused on Monday's row, nothing saved, the input kept.
    page.goto(f"{live_server.url}/admin/tickets/businesshours/add/")
    page.fill("#id_name", "Berlin office")
    page.select_option("#id_timezone", "Europe/Berlin")
    page.fill("#id_week-0-0-start", "17:00")
    page.fill("#id_week-0-0-end", "09:00")
    page.click("input[name=_save]")
    page.wait_for_selector("tr.week-day.errors")
    assert "before it starts at 17:00" in page.inner_text('tr.week-day[data-day="0"]')
    assert page.input_value("#id_week-0-0-start") == "17:00"
    assert page.input_value("#id_timezone") == "Europe/Berlin"
    assert not BusinessHours.objects.exists()

    # The preset puts the office week back in one step.
    page.click("[data-week-preset=office]")
    assert page.input_value("#id_week-0-0-start") == "09:00"
    assert page.is_checked("#id_week-4-open") and not page.is_checked("#id_week-5-open")
    assert "Save to keep it" in page.inner_text(".week-status")
    # A day's empty extra stretch stays folded away until "+ hours" asks for it.
    assert not page.is_visible("#id_week-0-1-start")

    # Monday gets a lunch break (a second stretch), then goes to Tuesday-Friday.
    page.fill("#id_week-0-0-end", "12:30")
    page.click('tr.week-day[data-day="0"] .week-add')
    page.fill("#id_week-0-1-start", "13:30")
    page.fill("#id_week-0-1-end", "17:00")
    page.click("[data-week-copy=weekdays]")
    assert page.input_value("#id_week-3-1-start") == "13:30"
    assert page.is_visible("#id_week-3-1-start")
    assert not page.is_checked("#id_week-5-open")
    assert page.input_value("#id_week-5-0-start") == ""

    # A third stretch on Thursday evening: the page adds the fields, the server takes them.
    page.click('tr.week-day[data-day="3"] .week-add')
    page.fill("#id_week-3-2-start", "18:00")
    page.fill("#id_week-3-2-end", "20:00")
    page.fill("#id_holidays-0-date", "2026-12-25")
    page.fill("#id_holidays-0-name", "Christmas Day")
    page.check("#id_holidays-0-recurring")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")
    calendar = BusinessHours.objects.get(name="Berlin office")
    office_day = [("09:00", "12:30"), ("13:30", "17:00")]
    assert week(calendar) == [
        *[(day, start, end) for day in range(3) for start, end in office_day],
        *[(3, start, end) for start, end in [*office_day, ("18:00", "20:00")]],
        *[(4, start, end) for start, end in office_day],
    ]
    assert calendar.timezone == "Europe/Berlin" and calendar.holidays.get().recurring

    # Copying to every day opens the weekend too.
    page.goto(f"{live_server.url}/admin/tickets/businesshours/{calendar.pk}/change/")
    page.click("[data-week-copy=all]")
    assert page.is_checked("#id_week-6-open")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was changed successfully")
    assert {day for day, _, _ in week(calendar)} == set(range(7))

    # A policy on those hours with targets in hours and minutes.
    page.goto(f"{live_server.url}/admin/tickets/slapolicy/add/")
    page.fill("#id_name", "Standard")
    page.select_option("#id_business_hours", str(calendar.pk))
    page.select_option("#id_targets-0-priority", "normal")
    page.fill("#id_targets-0-first_response_minutes_1", "2")
    page.fill("#id_targets-0-resolution_minutes_0", "8")
    page.click("input[name=_continue]")
    assert "a ticket created now would be due at" in page.inner_text("#sla-preview")
    policy = SlaPolicy.objects.get(name="Standard")
    target = policy.targets.get()
    assert (target.first_response_minutes, target.resolution_minutes) == (2, 480)
    assert page.input_value("#id_targets-0-resolution_minutes_0") == "8"
    page.goto(f"{live_server.url}/admin/tickets/slapolicy/")
    assert "Normal: 2m / — / 8h" in page.inner_text("#result_list")
