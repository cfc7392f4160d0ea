"""Business time as pure functions over a frozen calendar.

A business minute is a real (UTC) minute whose local wall-clock time, in the calendar's
IANA timezone, falls inside one of that weekday's intervals on a day that is not a
holiday. That definition settles every DST edge: in a spring-forward gap the missing
local hour simply has no minutes, and in a fall-back fold the repeated local hour is
counted twice, because it really is worked twice.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
DAY = timedelta(days=1)
# A calendar with intervals but a holiday on every matching day would never yield a
# business minute; we give up after this many days instead of looping forever.
MAX_SCAN_DAYS = 3 * 366


class CalendarError(ValueError):
    """A calendar that cannot measure time (no intervals, or nothing open for years)."""


@dataclass(frozen=True)
class Calendar:
    tz: str
    # week[weekday] = sorted, non-overlapping (start, end) minutes of the local day;
    # Monday is 0, as in date.weekday(). end may be 1440 (midnight at the day's end).
    week: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    always_open: bool = False
    holidays: frozenset[date] = field(default_factory=frozenset)
    yearly_holidays: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # fails loudly on an unknown zone name
        if len(self.week) != 7:
            raise CalendarError("A calendar needs one list of intervals per weekday (7).")
        if not self.always_open and not any(self.week):
            raise CalendarError("The calendar has no open hours: add intervals or make it 24/7.")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays


ALWAYS_OPEN = Calendar(tz="UTC", always_open=True)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("Business time needs timezone-aware datetimes.")
    return value.astimezone(UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _constant_offset_segments(
    zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """Split [start, end) (UTC, at most a day or so) where the zone's offset changes.

    Zones change offset at most once in any such window, so a bisection to the minute
    finds the one transition; real transitions fall on whole minutes.
    """
    first, last = _offset(zone, start), _offset(zone, end - timedelta(microseconds=1))
    if first == last:
        yield start, end, first
        return
    lo, hi = start, end  # offset(lo) == first, offset(hi - eps) != first
    while hi - lo > timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(minutes=1)
        if _offset(zone, mid) == first:
            lo = mid
        else:
            hi = mid
    switch = hi if _offset(zone, hi) != first else lo
    yield start, switch, first
    yield from _constant_offset_segments(zone, switch, end)


def business_spans(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business spans [a, b) in UTC, in order, the first one clipped to begin at start."""
    start = _utc(start)
    if calendar.always_open:
        yield start, datetime.max.replace(tzinfo=UTC) - DAY
        return
    zone = calendar.zone
    chunk = start
    for _ in range(MAX_SCAN_DAYS):
        chunk_end = chunk + DAY
        for seg_start, seg_end, offset in _constant_offset_segments(zone, chunk, chunk_end):
            local_start = (seg_start + offset).replace(tzinfo=None)
            local_end = (seg_end + offset).replace(tzinfo=None)
            day = local_start.date()
            while datetime.combine(day, time()) < local_end:
                if not calendar.is_holiday(day):
                    midnight = datetime.combine(day, time())
                    for a_min, b_min in calendar.week[day.weekday()]:
                        a = max(midnight + timedelta(minutes=a_min), local_start)
                        b = min(midnight + timedelta(minutes=b_min), local_end)
                        if a < b:
                            yield (a - offset).replace(tzinfo=UTC), (b - offset).replace(tzinfo=UTC)
                day += DAY
        chunk = chunk_end
    raise CalendarError(
        f"No business hours in the {MAX_SCAN_DAYS} days after {start:%Y-%m-%d}: check the "
        "calendar's intervals and holidays."
    )


def add_business_seconds(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The earliest instant by which `seconds` of business time have passed since start."""
    start = _utc(start)
    if seconds <= 0:
        return start
    remaining = timedelta(seconds=seconds)
    for a, b in business_spans(calendar, start):
        if remaining <= b - a:
            return a + remaining
        remaining -= b - a
    raise AssertionError("business_spans ends only by raising")  # pragma: no cover


def add_business_minutes(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    """start plus `minutes` of business time (start itself when minutes <= 0)."""
    return add_business_seconds(calendar, start, minutes * 60)


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Business seconds in [start, end); negative when end is before start."""
    start, end = _utc(start), _utc(end)
    if end < start:
        return -business_seconds_between(calendar, end, start)
    if calendar.always_open:
        return (end - start).total_seconds()
    total = timedelta()
    for a, b in business_spans(calendar, start):
        if a >= end:
            break
        total += min(b, end) - a
    return total.total_seconds()


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Whole business minutes in [start, end), rounded toward zero (negative if reversed)."""
    seconds = business_seconds_between(calendar, start, end)
    return int(seconds / 60)


def next_business_instant(calendar: Calendar, when: datetime) -> datetime:
    """when itself if it is inside business hours, else the next opening."""
    for a, _b in business_spans(calendar, when):
        return a
    raise AssertionError("business_spans ends only by raising")  # pragma: no cover


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
