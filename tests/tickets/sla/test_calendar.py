"""Business-time arithmetic: hand-picked edges and hypothesis against a minute oracle."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.sla.calendar import (
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    next_business_instant,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NINE_TO_FIVE = ((9 * 60, 17 * 60),)
LUNCH = ((9 * 60, 12 * 60 + 30), (13 * 60 + 30, 18 * 60))


def weekdays(intervals: tuple[tuple[int, int], ...]) -> tuple[tuple[tuple[int, int], ...], ...]:
    return (intervals,) * 5 + ((), ())


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


OFFICE = Calendar(tz="Europe/Berlin", week=weekdays(NINE_TO_FIVE))


# --- the oracle: one minute at a time --------------------------------------------------


def is_business_minute(calendar: Calendar, minute: datetime) -> bool:
    if calendar.always_open:
        return True
    local = minute.astimezone(ZoneInfo(calendar.tz))
    if calendar.is_holiday(local.date()):
        return False
    of_day = local.hour * 60 + local.minute
    return any(a <= of_day < b for a, b in calendar.week[local.weekday()])


def oracle_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    count, t = 0, start
    while t < end:
        count += is_business_minute(calendar, t)
        t += timedelta(minutes=1)
    return count


def oracle_add(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    t, count = start, 0
    while count < minutes:
        if is_business_minute(calendar, t):
            count += 1
        t += timedelta(minutes=1)
    return t


# --- hand-picked cases -------------------------------------------------------------------


def test_it_adds_within_one_day() -> None:
    assert add_business_minutes(OFFICE, berlin(2026, 3, 2, 10, 0), 60) == berlin(2026, 3, 2, 11)


def test_it_skips_the_weekend() -> None:
    # Friday 16:00 + 2h: one hour Friday, one hour Monday.
    due = add_business_minutes(OFFICE, berlin(2026, 3, 6, 16, 0), 120)
    assert due == berlin(2026, 3, 9, 10, 0)
    assert business_minutes_between(OFFICE, berlin(2026, 3, 6, 16), due) == 120


def test_it_starts_the_clock_at_opening_for_a_ticket_created_outside_hours() -> None:
    assert add_business_minutes(OFFICE, berlin(2026, 3, 2, 22, 15), 30) == berlin(2026, 3, 3, 9, 30)
    assert add_business_minutes(OFFICE, berlin(2026, 3, 7, 12, 0), 30) == berlin(2026, 3, 9, 9, 30)


def test_it_skips_one_off_and_yearly_holidays() -> None:
    calendar = Calendar(
        tz="Europe/Berlin",
        week=weekdays(NINE_TO_FIVE),
        holidays=frozenset({date(2026, 4, 3)}),  # Good Friday 2026
        yearly_holidays=frozenset({(12, 25)}),
    )
    assert add_business_minutes(calendar, berlin(2026, 4, 2, 16, 30), 60) == berlin(
        2026, 4, 6, 9, 30
    )
    # Thursday 24 Dec 2026 16:00 + 2h: Christmas Friday is closed every year.
    assert add_business_minutes(calendar, berlin(2026, 12, 24, 16, 0), 120) == berlin(
        2026, 12, 28, 10, 0
    )


def test_it_skips_the_lunch_break() -> None:
    calendar = Calendar(tz="Europe/Berlin", week=weekdays(LUNCH))
    assert add_business_minutes(calendar, berlin(2026, 3, 2, 12, 0), 60) == berlin(
        2026, 3, 2, 14, 0
    )
    assert (
        business_minutes_between(calendar, berlin(2026, 3, 2, 12, 0), berlin(2026, 3, 2, 14, 0))
        == 60
    )


def test_it_counts_the_spring_forward_gap_as_no_time() -> None:
    # Berlin, Sunday 29 March 2026: 02:00 jumps to 03:00. A night shift 00:00-06:00 has
    # five real hours that night.
    night = Calendar(tz="Europe/Berlin", week=(((0, 360),),) * 7)
    assert business_minutes_between(night, berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 6)) == 300
    assert add_business_minutes(night, berlin(2026, 3, 29, 1, 30), 60) == berlin(2026, 3, 29, 3, 30)


def test_it_counts_the_fall_back_hour_twice() -> None:
    # New York, Sunday 1 November 2026: 02:00 falls back to 01:00. 00:00-06:00 is 7 hours.
    night = Calendar(tz="America/New_York", week=(((0, 360),),) * 7)
    start = datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)
    end = datetime(2026, 11, 1, 6, 0, tzinfo=NEW_YORK)
    assert business_minutes_between(night, start, end) == 420
    assert add_business_minutes(night, start, 420) == end


def test_it_keeps_wall_clock_office_hours_across_dst() -> None:
    # Friday before the US change at 16:30 + 60 min: Monday 09:30 local, EST now.
    calendar = Calendar(tz="America/New_York", week=weekdays(NINE_TO_FIVE))
    start = datetime(2026, 10, 30, 16, 30, tzinfo=NEW_YORK)
    due = add_business_minutes(calendar, start, 60)
    assert due == datetime(2026, 11, 2, 9, 30, tzinfo=NEW_YORK)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_it_is_plain_elapsed_time_when_open_24_7() -> None:
    calendar = Calendar(tz="Europe/Berlin", always_open=True)
    start = berlin(2026, 3, 28, 23, 0)
    # Ten real hours across the spring-forward night: 09:00 local, not 08:00.
    assert add_business_minutes(calendar, start, 600) == berlin(2026, 3, 29, 10, 0)


def test_it_finds_the_next_opening() -> None:
    assert next_business_instant(OFFICE, berlin(2026, 3, 6, 18)) == berlin(2026, 3, 9, 9)
    assert next_business_instant(OFFICE, berlin(2026, 3, 6, 10)) == berlin(2026, 3, 6, 10)


def test_it_refuses_a_calendar_without_hours() -> None:
    with pytest.raises(CalendarError, match="no open hours"):
        Calendar(tz="Europe/Berlin")
    with pytest.raises(Exception, match="Nowhere"):
        Calendar(tz="Mars/Nowhere", always_open=True)


# --- properties against the oracle --------------------------------------------------------

ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
INTERVAL_SETS = st.sampled_from([NINE_TO_FIVE, LUNCH, ((0, 360),), ((60, 180), (150 + 30, 1440))])
# Minute-aligned instants in windows that include both DST changes of 2026.
INSTANTS = st.integers(min_value=0, max_value=365 * 24 * 60).map(
    lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m)
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    intervals = draw(INTERVAL_SETS)
    days = draw(st.lists(st.booleans(), min_size=7, max_size=7).filter(any))
    week = tuple(intervals if open_ else () for open_ in days)
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    return Calendar(tz=draw(ZONES), week=week, holidays=holidays)


# The 2026 transitions of Berlin and New York (UTC), where the bugs live.
TRANSITIONS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
]
NEAR_DST = st.builds(
    lambda at, minutes: at + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(min_value=-3 * 1440, max_value=1440),
)
STARTS = st.one_of(INSTANTS, NEAR_DST)


@settings(max_examples=60, deadline=None)
@given(calendars(), STARTS, st.integers(min_value=0, max_value=2500))
def test_it_adds_like_the_oracle(calendar: Calendar, start: datetime, minutes: int) -> None:
    assert add_business_minutes(calendar, start, minutes) == oracle_add(calendar, start, minutes)


@settings(max_examples=60, deadline=None)
@given(calendars(), STARTS, st.integers(min_value=0, max_value=4 * 24 * 60))
def test_it_measures_like_the_oracle(calendar: Calendar, start: datetime, span: int) -> None:
    end = start + timedelta(minutes=span)
    assert business_minutes_between(calendar, start, end) == oracle_between(calendar, start, end)


@settings(max_examples=40, deadline=None)
@given(calendars(), STARTS, st.integers(min_value=1, max_value=3000))
def test_it_round_trips_add_and_measure(calendar: Calendar, start: datetime, minutes: int) -> None:
    due = add_business_minutes(calendar, start, minutes)
    assert business_minutes_between(calendar, start, due) == minutes
