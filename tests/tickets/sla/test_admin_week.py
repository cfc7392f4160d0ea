"""The business-hours admin form: the week as one grid and the timezone as a select."""

import html
import re
from datetime import time
from typing import Any

import pytest
from django.contrib.staticfiles import finders

from tickets.models import BusinessHours, BusinessInterval

from .test_admin import calendar_post

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ADD = "/admin/tickets/businesshours/add/"


def change_url(calendar: BusinessHours) -> str:
    return f"/admin/tickets/businesshours/{calendar.pk}/change/"


def stored(calendar: BusinessHours) -> list[tuple[int, str, str]]:
    return [
        (i.weekday, f"{i.start:%H:%M}", f"{i.end:%H:%M}")
        for i in BusinessInterval.objects.filter(calendar=calendar).order_by("weekday", "start")
    ]


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


def is_checked(page: str, name: str) -> bool:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    return " checked" in match.group(0)


OFFICE_WEEK = [(day, "09:00", "17:00") for day in range(5)]


def test_it_saves_monday_to_friday_9_to_17_in_one_post(admin_client) -> None:
    response = admin_client.post(ADD, calendar_post(OFFICE_WEEK))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored(BusinessHours.objects.get()) == OFFICE_WEEK


def test_it_shows_one_row_per_weekday_with_the_stored_hours(admin_client, office) -> None:
    BusinessInterval.objects.create(calendar=office, weekday=0, start=time(18), end=time(20))

    page = admin_client.get(change_url(office)).content.decode()

    assert re.findall(r'<th scope="row"><label[^>]*>(\w+)</label>', page) == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ]  # fmt: skip
    assert is_checked(page, "week-0-open") and not is_checked(page, "week-5-open")
    assert input_value(page, "week-0-0-start") == "09:00"
    assert input_value(page, "week-0-1-start") == "18:00"  # the evening stretch, second
    assert input_value(page, "week-0-1-end") == "20:00"
    assert 'type="time"' in page
    # The old one-row-per-interval inline is gone: the grid is the only editor.
    assert "intervals-TOTAL_FORMS" not in page


def test_it_starts_a_new_calendar_on_office_hours(admin_client) -> None:
    page = admin_client.get(ADD).content.decode()

    assert is_checked(page, "week-4-open") and not is_checked(page, "week-6-open")
    assert input_value(page, "week-4-0-end") == "17:00"


def test_it_offers_the_preset_and_copy_buttons_with_their_script(admin_client) -> None:
    page = admin_client.get(ADD).content.decode()

    assert 'data-week-preset="office"' in page and "Mon\u2013Fri 9\u201317" in page
    assert 'data-week-copy="weekdays"' in page and 'data-week-copy="all"' in page
    assert "admin/tickets/business_hours_week.js" in page
    assert finders.find("admin/tickets/business_hours_week.js")
    assert finders.find("admin/tickets/business_hours_week.css")


def test_it_saves_what_copying_monday_to_the_other_days_posts(admin_client, office) -> None:
    # Copying fills the other rows in the page; the server takes them like typed ones,
    # breaks and a stretch the page added (index 2) included.
    week = [
        (day, start, end)
        for day in range(7)
        for start, end in (("08:00", "12:00"), ("13:00", "16:00"), ("17:00", "18:00"))
    ]

    response = admin_client.post(change_url(office), calendar_post(week, name=office.name))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored(office) == week


def test_it_keeps_unchanged_intervals_and_drops_closed_days(admin_client, office) -> None:
    monday = BusinessInterval.objects.get(calendar=office, weekday=0)
    post = calendar_post(OFFICE_WEEK, name=office.name)
    del post["week-4-open"]  # Friday closed; its times stay in the form but count nothing

    response = admin_client.post(change_url(office), post)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored(office) == OFFICE_WEEK[:4]
    assert BusinessInterval.objects.get(calendar=office, weekday=0).pk == monday.pk


@pytest.mark.parametrize(
    ("week", "field", "message"),
    [
        ([(2, "17:00", "09:00")], "week-2-0-end", "Wednesday ends at 09:00, before it starts"),
        (
            [(0, "09:00", "12:30"), (0, "12:00", "17:00")],
            "week-0-1-start",
            "Monday: 09:00-12:30 overlaps 12:00-17:00",
        ),
        ([(1, "09:00", "")], "week-1-0-end", "Tuesday: give both a start and an end time"),
        ([(3, "", "")], "week-3-open", "Thursday is ticked open but has no hours"),
        ([(0, "9 o'clock", "17:00")], "week-0-0-start", "Enter a valid time"),
    ],
)
def test_it_refuses_a_broken_day_on_its_row_and_keeps_the_input(
    admin_client, office, week, field, message
) -> None:
    before = stored(office)
    post = calendar_post(OFFICE_WEEK[4:] + week, name=office.name)

    response = admin_client.post(change_url(office), post)

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    row = re.search(rf'<tr class="week-day errors" data-day="{field[5]}">.*?</tr>', page, re.S)
    assert row and message in row.group(0), "the error sits on the day's own row"
    seen: dict[int, int] = {}
    for day, start, end in week:  # what was typed comes back as typed
        n = seen[day] = seen.get(day, -1) + 1
        assert (input_value(page, f"week-{day}-{n}-start") or "") == start
        assert (input_value(page, f"week-{day}-{n}-end") or "") == end
    assert input_value(page, "week-4-0-start") == "09:00"
    assert stored(office) == before


def test_it_refuses_a_week_with_no_open_day(admin_client) -> None:
    post = calendar_post([])
    post["week-6-0-start"], post["week-6-0-end"] = "10:00", "14:00"  # typed, but closed

    response = admin_client.post(ADD, post)

    page = response.content.decode()
    assert "The week has no open hours. Tick Open on at least one day" in page
    assert input_value(page, "week-6-0-start") == "10:00"
    assert not BusinessHours.objects.exists()


def test_it_lists_timezones_common_first_with_the_current_one_selected(
    admin_client, office
) -> None:
    page = admin_client.get(change_url(office)).content.decode()

    select = re.search(r'<select name="timezone".*?</select>', page, re.S)
    assert select, "the timezone is a select, not a text box"
    groups = re.findall(r'<optgroup label="([^"]+)"', select.group(0))
    assert groups[0] == "Common" and {"Europe", "America", "Asia"} <= set(groups)
    assert '<option value="Europe/Berlin" selected>' in select.group(0)
    assert '<option value="America/New_York">America/New York</option>' in select.group(0)
    assert len(re.findall("<option ", select.group(0))) > 300
    europe = re.search(r'<optgroup label="Europe">(.*?)</optgroup>', select.group(0), re.S)
    assert europe
    names = re.findall(r'<option value="([^"]+)"', europe.group(1))
    assert names == sorted(names)


def test_it_keeps_a_legacy_zone_name_selected(admin_client, office) -> None:
    BusinessHours.objects.filter(pk=office.pk).update(timezone="US/Eastern")

    page = admin_client.get(change_url(office)).content.decode()

    assert '<option value="US/Eastern" selected>' in page


@pytest.mark.parametrize("zone", ["Berlin/Mitte", "localtime", "../etc/passwd"])
def test_it_refuses_an_unknown_timezone(admin_client, zone: Any) -> None:
    response = admin_client.post(ADD, calendar_post(OFFICE_WEEK, timezone=zone))

    page = response.content.decode()
    assert response.status_code == 200
    assert "is not an IANA timezone. Pick one from the list" in page
    assert input_value(page, "week-0-0-start") == "09:00"
    assert not BusinessHours.objects.exists()
