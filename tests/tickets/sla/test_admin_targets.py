"""SLA targets in the admin: entered as hours and minutes, listed the same way."""

import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets.models import SlaPolicy, SlaTarget
from tickets.sla.admin_forms import hours_minutes

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ADD = "/admin/tickets/slapolicy/add/"


def policy_post(targets: dict[str, tuple[str, str]], **fields: Any) -> dict[str, Any]:
    """One normal-priority target; `targets` maps a kind to its (hours, minutes) boxes."""
    data: dict[str, Any] = {
        "name": "Chat", "order": "5", "active": "on", "business_hours": "",
        "warning_percent": "80", "priority": "", "channel": "",
        "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "1", "targets-MAX_NUM_FORMS": "1000",
        "targets-0-priority": "normal",
        **fields,
    }  # fmt: skip
    for kind, (hours, minutes) in targets.items():
        data[f"targets-0-{kind}_minutes_0"] = hours
        data[f"targets-0-{kind}_minutes_1"] = minutes
    return data


def box(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


@pytest.mark.parametrize(
    ("minutes", "shown"), [(270, "4h 30m"), (120, "2h"), (2, "2m"), (4320, "72h"), (None, "")]
)
def test_it_writes_minutes_as_hours_and_minutes(minutes, shown) -> None:
    assert hours_minutes(minutes) == shown


def test_it_round_trips_hours_and_minutes(admin_client) -> None:
    post = policy_post({"first_response": ("4", "30"), "resolution": ("72", "")})

    response = admin_client.post(ADD, post)

    assert response.status_code == 302, response.content.decode()[:3000]
    target = SlaTarget.objects.get()
    assert (target.first_response_minutes, target.next_response_minutes) == (270, None)
    assert target.resolution_minutes == 72 * 60
    page = admin_client.get(f"/admin/tickets/slapolicy/{target.policy_id}/change/")
    body = page.content.decode()
    assert box(body, "targets-0-first_response_minutes_0") == "4"
    assert box(body, "targets-0-first_response_minutes_1") == "30"
    assert box(body, "targets-0-next_response_minutes_0") == ""
    assert box(body, "targets-0-resolution_minutes_1") == "0"


def test_it_takes_a_two_minute_chat_target(admin_client) -> None:
    response = admin_client.post(ADD, policy_post({"first_response": ("", "2")}))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert SlaTarget.objects.get().first_response_minutes == 2


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (("0", "0"), "A target of 0 minutes is breached at once"),
        (("1", "75"), "Minutes go from 0 to 59: put whole hours in the hours box."),
        (("-1", "0"), "Hours cannot be negative."),
        (("four", "0"), "Hours must be a whole number"),
    ],
)
def test_it_refuses_a_target_it_cannot_use_and_keeps_the_input(
    admin_client, boxes, message
) -> None:
    response = admin_client.post(ADD, policy_post({"first_response": boxes}))

    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert box(body, "targets-0-first_response_minutes_0") == boxes[0]
    assert box(body, "targets-0-first_response_minutes_1") == boxes[1]
    assert not SlaPolicy.objects.exists()


def test_it_lists_targets_in_hours_and_minutes_in_constant_queries(
    admin_client, make_policy, django_assert_num_queries
) -> None:
    make_policy(name="Email", first=270, following=None, resolution=3 * 8 * 60)
    url = "/admin/tickets/slapolicy/"
    admin_client.get(url)  # session, permissions and content types warmed up
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for n in range(4):
        make_policy(name=f"Chat {n}", order=20 + n, first=2, following=5, resolution=60)

    with django_assert_num_queries(len(few.captured_queries)):
        page = admin_client.get(url).content.decode()

    assert "Normal: 4h 30m / — / 24h" in page
    assert "Urgent: 2m / 5m / 1h" in page
    # Listed in priority order, low to urgent, not alphabetically.
    row = re.search(r"Low: 4h 30m.*?Urgent: 4h 30m", page, re.S)
    assert row and "High" in row.group(0) and "Normal" in row.group(0)


def test_it_previews_the_business_time_in_hours_and_minutes(admin_client, policy, clock) -> None:
    page = admin_client.get(f"/admin/tickets/slapolicy/{policy.pk}/change/").content.decode()

    preview = page[page.index('id="sla-preview"') :]
    assert "<td>1h</td>" in preview and "<td>8h</td>" in preview
