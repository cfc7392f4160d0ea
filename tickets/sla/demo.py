"""The demo's SLA setup: office hours, a default policy and a live-chat policy."""

from datetime import time

from django.db import transaction
from django.utils import timezone

from tickets.models import (
    BusinessHours,
    BusinessInterval,
    Channel,
    Priority,
    SlaPolicy,
    SlaTarget,
)
from tickets.sla.services import business_hours_import_holidays, sla_config_changed

DEMO_TARGETS = {
    # priority: (first response, next response, resolution) in business minutes
    Priority.URGENT: (30, 60, 4 * 60),
    Priority.HIGH: (60, 2 * 60, 8 * 60),
    Priority.NORMAL: (4 * 60, 8 * 60, 3 * 8 * 60),
    Priority.LOW: (8 * 60, 16 * 60, 5 * 8 * 60),
}
# A visitor in the widget waits on the page: minutes, not business hours. The clock runs
# 24/7 because a chat only starts while an agent is online (else the widget takes a
# message, which arrives as a web ticket under the default policy).
DEMO_CHAT_TARGETS = {
    Priority.URGENT: (1, 3, 60),
    Priority.HIGH: (2, 5, 2 * 60),
    Priority.NORMAL: (2, 5, 4 * 60),
    Priority.LOW: (5, 10, 8 * 60),
}
DEMO_CHAT_POLICY = "Live chat"


def _targets_create(policy: SlaPolicy, targets: dict[Priority, tuple[int, int, int]]) -> None:
    SlaTarget.objects.bulk_create(
        SlaTarget(
            policy=policy,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for priority, (first, following, resolution) in targets.items()
    )


@transaction.atomic
def sla_demo_setup(*, timezone_name: str = "Europe/Berlin", country: str = "DE") -> SlaPolicy:
    """Mon-Fri 09:00-17:00 office hours with the country's holidays, a default policy in
    business hours and, ahead of it, a live-chat policy in minutes around the clock (so a
    chat never gets the default's hours-long email targets). Returns the default policy.

    Idempotent: an existing calendar or policy of the same name is left as the admin
    edited it.
    """
    calendar, created = BusinessHours.objects.get_or_create(
        name="Office hours",
        defaults={"timezone": timezone_name, "holiday_country": country},
    )
    if created:
        BusinessInterval.objects.bulk_create(
            BusinessInterval(calendar=calendar, weekday=day, start=time(9), end=time(17))
            for day in range(5)
        )
        year = timezone.now().year
        business_hours_import_holidays(business_hours=calendar, years=[year, year + 1])
    policy, created = SlaPolicy.objects.get_or_create(
        name="Default", defaults={"order": 1000, "business_hours": calendar}
    )
    if created:
        _targets_create(policy, DEMO_TARGETS)
    chat, created = SlaPolicy.objects.get_or_create(
        name=DEMO_CHAT_POLICY,
        defaults={"order": 100, "channel": Channel.CHAT, "business_hours": None},
    )
    if created:
        _targets_create(chat, DEMO_CHAT_TARGETS)
    sla_config_changed()
    return policy
