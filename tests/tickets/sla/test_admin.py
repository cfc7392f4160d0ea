"""SLA configuration through the admin forms: validation, preview, holiday import. The
week grid and the timezone select have their own module (test_admin_week.py)."""

from typing import Any

import pytest

from tickets.models import BusinessHours, Holiday, SlaPolicy

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def calendar_post(intervals: list[tuple[int, str, str]], **fields: Any) -> dict[str, Any]:
    """The business-hours form as the week grid posts it: a day with intervals is open."""
    data: dict[str, Any] = {
        "name": "Support office",
        "timezone": "Europe/Berlin",
        "holiday_country": "",
        "holiday_subdivision": "",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        **fields,
    }
    stretch: dict[int, int] = {}
    for weekday, start, end in intervals:
        n = stretch[weekday] = stretch.get(weekday, -1) + 1
        data |= {
            f"week-{weekday}-open": "on",
            f"week-{weekday}-{n}-start": start,
            f"week-{weekday}-{n}-end": end,
        }
    return data


@pytest.fixture
def admin_client_(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


URL = "/admin/tickets/businesshours/add/"


def test_it_saves_a_calendar_with_a_lunch_break(admin_client_) -> None:
    post = calendar_post([(0, "09:00", "12:30"), (0, "13:30", "18:00"), (1, "09:00", "00:00")])
    response = admin_client_.post(URL, post)
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessHours.objects.get()
    assert [i.minutes for i in calendar.intervals.all()] == [(540, 750), (810, 1080), (540, 1440)]


@pytest.mark.parametrize(
    ("intervals", "fields", "message"),
    [
        ([(0, "09:00", "12:30"), (0, "12:00", "17:00")], {}, "overlaps"),
        ([(2, "17:00", "09:00")], {}, "before it starts"),
        ([], {}, "no open hours"),
        ([(0, "09:00", "17:00")], {"timezone": "Berlin/Mitte"}, "not an IANA timezone"),
    ],
)
def test_it_refuses_a_broken_week_with_a_clear_error(admin_client_, intervals, fields, message):
    response = admin_client_.post(URL, calendar_post(intervals, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_it_accepts_an_empty_week_when_open_24_7(admin_client_) -> None:
    response = admin_client_.post(URL, calendar_post([], always_open="on"))
    assert response.status_code == 302


def test_it_previews_due_times_on_the_policy_page(admin_client_, policy, clock) -> None:
    response = admin_client_.get(f"/admin/tickets/slapolicy/{policy.pk}/change/")
    page = response.content.decode()
    assert "a ticket created now would be due at" in page
    # Monday 10:00 Berlin + 60 business minutes.
    assert "Mon 02 Mar 2026, 11:00 CET" in page


def test_it_imports_a_countrys_holidays(admin_client_, office) -> None:
    office.holiday_country = "DE"
    office.save()
    response = admin_client_.post(
        "/admin/tickets/businesshours/",
        {"action": "import_holidays", "_selected_action": [office.pk]},
        follow=True,
    )
    assert "holidays added" in response.content.decode()
    assert Holiday.objects.filter(calendar=office, name__icontains="Christmas").count() >= 2


def test_it_says_what_to_do_when_the_country_is_missing(admin_client_, office) -> None:
    response = admin_client_.post(
        "/admin/tickets/businesshours/",
        {"action": "import_holidays", "_selected_action": [office.pk]},
        follow=True,
    )
    assert "has no holiday country" in response.content.decode()
    assert not Holiday.objects.exists()


def test_it_recomputes_open_tickets_when_a_policy_is_saved(
    admin_client_, customer, office, clock, django_capture_on_commit_callbacks
) -> None:
    from tickets.services import ticket_create

    ticket = ticket_create(customer=customer, subject="x", channel="email")
    assert ticket.sla_next_due_at is None
    post = {
        "name": "New", "order": "1", "active": "on", "business_hours": str(office.pk),
        "warning_percent": "80", "priority": "", "channel": "",
        "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "1", "targets-MAX_NUM_FORMS": "1000",
        "targets-0-priority": "normal", "targets-0-first_response_minutes_1": "30",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post("/admin/tickets/slapolicy/add/", post)
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket.refresh_from_db()
    assert ticket.sla_policy == SlaPolicy.objects.get(name="New")
    assert ticket.first_response_due_at is not None
