from collections.abc import Callable, Iterator
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tickets.models import BusinessHours, BusinessInterval, SlaPolicy, SlaTarget

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.fixture
def office(db: None) -> BusinessHours:
    """Mon-Fri 09:00-17:00 Europe/Berlin."""
    calendar = BusinessHours.objects.create(name="Berlin office", timezone="Europe/Berlin")
    BusinessInterval.objects.bulk_create(
        BusinessInterval(calendar=calendar, weekday=day, start=time(9), end=time(17))
        for day in range(5)
    )
    return calendar


@pytest.fixture
def make_policy(db: None, office: BusinessHours) -> Callable[..., SlaPolicy]:
    def make(
        *,
        name: str = "Standard",
        order: int = 10,
        first: int | None = 60,
        following: int | None = 120,
        resolution: int | None = 480,
        priorities: tuple[str, ...] = ("low", "normal", "high", "urgent"),
        **fields: Any,
    ) -> SlaPolicy:
        fields.setdefault("business_hours", office)
        policy = SlaPolicy.objects.create(name=name, order=order, **fields)
        for priority in priorities:
            SlaTarget.objects.create(
                policy=policy,
                priority=priority,
                first_response_minutes=first,
                next_response_minutes=following,
                resolution_minutes=resolution,
            )
        return policy

    return make


@pytest.fixture
def policy(make_policy: Callable[..., SlaPolicy]) -> SlaPolicy:
    return make_policy()


@pytest.fixture
def clock() -> Iterator[Callable[[datetime], None]]:
    """clock(when) moves the frozen time; starts Monday 2 March 2026 10:00 Berlin."""
    traveller = time_machine.travel(berlin(2026, 3, 2, 10, 0), tick=False)
    frozen = traveller.start()
    yield lambda when: frozen.move_to(when)
    traveller.stop()
