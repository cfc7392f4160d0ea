"""The business-hours admin form: the week as one grid, a row per weekday.

Each row has an Open box and one or more start/end stretches (two stretches make a
break, e.g. lunch). The grid's fields are named `week-<day>-open` and
`week-<day>-<n>-start` / `-end`; the page's script may add stretches, so a bound form
reads how many a day has from the data it was given. Storage stays one BusinessInterval
per stretch, written by business_hours_set_week when the admin saves.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from itertools import pairwise
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.forms.utils import ErrorList

from helpdesk.lib.timezones import TimezoneChoiceField, timezone_choices
from tickets.models import BusinessHours, Weekday
from tickets.sla.calendar import MINUTES_PER_DAY, WEEKDAY_NAMES

# Stretches shown per day (the second one for a break); a day with more stored shows them all.
SHOWN_STRETCHES = 2
# Most stretches a posted day may carry: bounds the fields a request can make us build.
MAX_STRETCHES = 8
# What a new calendar starts with: the office week the preset button also sets.
DEFAULT_WEEK: dict[int, list[tuple[time, time]]] = {day: [(time(9), time(17))] for day in range(5)}

Week = dict[int, list[tuple[time, time]]]


def _open_key(day: int) -> str:
    return f"week-{day}-open"


def _time_key(day: int, n: int, edge: str) -> str:
    return f"week-{day}-{n}-{edge}"


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _hhmm(value: time) -> str:
    return f"{value:%H:%M}"


class _TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, label: str) -> None:
        super().__init__(format="%H:%M", attrs={"aria-label": label})


@dataclass(frozen=True)
class WeekRow:
    """One weekday of the grid, for the template."""

    day: int
    name: str
    open: BoundField
    stretches: list[tuple[BoundField, BoundField]]
    errors: ErrorList


class BusinessHoursForm(forms.ModelForm):
    timezone = TimezoneChoiceField(label="Timezone")

    class Meta:
        model = BusinessHours
        fields = ("name", "timezone", "always_open", "holiday_country", "holiday_subdivision")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.data.get("timezone") if self.is_bound else self.initial.get("timezone")
        timezone_field = self.fields["timezone"]
        assert isinstance(timezone_field, TimezoneChoiceField)
        timezone_field.choices = timezone_choices(str(current or ""))
        self.week: Week = {}
        stored = self._stored_week()
        self.stretch_counts: dict[int, int] = {}
        for day in range(7):
            name = WEEKDAY_NAMES[day]
            count = max(SHOWN_STRETCHES, len(stored.get(day, [])), self._posted_stretches(day))
            self.stretch_counts[day] = count
            self.fields[_open_key(day)] = forms.BooleanField(
                required=False,
                initial=bool(stored.get(day)),
                label=f"{name} open",
            )
            for n in range(count):
                start, end = stored[day][n] if n < len(stored.get(day, [])) else (None, None)
                self.fields[_time_key(day, n, "start")] = forms.TimeField(
                    required=False, initial=start, widget=_TimeInput(f"{name} from")
                )
                self.fields[_time_key(day, n, "end")] = forms.TimeField(
                    required=False, initial=end, widget=_TimeInput(f"{name} until")
                )

    def _stored_week(self) -> Week:
        if self.instance.pk is None:
            return DEFAULT_WEEK
        week: Week = {}
        for interval in self.instance.intervals.all():
            week.setdefault(interval.weekday, []).append((interval.start, interval.end))
        return week

    def _posted_stretches(self, day: int) -> int:
        if not self.is_bound:
            return 0
        pattern = re.compile(rf"^week-{day}-(\d+)-(?:start|end)$")
        found = [int(m.group(1)) for key in self.data if (m := pattern.match(key))]
        return min(max(found, default=-1) + 1, MAX_STRETCHES)

    def week_rows(self) -> list[WeekRow]:
        rows = []
        for day in range(7):
            keys = [_open_key(day)] + [
                _time_key(day, n, edge)
                for n in range(self.stretch_counts[day])
                for edge in ("start", "end")
            ]
            errors = ErrorList([str(m) for key in keys for m in self.errors.get(key, [])])
            rows.append(
                WeekRow(
                    day=day,
                    name=Weekday(day).label,
                    open=self[_open_key(day)],
                    stretches=[
                        (self[_time_key(day, n, "start")], self[_time_key(day, n, "end")])
                        for n in range(self.stretch_counts[day])
                    ],
                    errors=errors,
                )
            )
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        week: Week = {}
        for day in range(7):
            stretches = self._clean_day(day, data)
            if data.get(_open_key(day)):
                if stretches:
                    week[day] = stretches
                elif stretches is not None:
                    self.add_error(
                        _open_key(day),
                        f"{WEEKDAY_NAMES[day]} is ticked open but has no hours. Give a start "
                        "and an end (e.g. 09:00 to 17:00), or untick Open.",
                    )
        if not week and not data.get("always_open") and not self.errors:
            raise forms.ValidationError(
                "The week has no open hours. Tick Open on at least one day and give its "
                "hours (e.g. Monday 09:00 to 17:00), or tick 24/7."
            )
        self.week = week
        return data

    def _clean_day(self, day: int, data: Mapping[str, Any]) -> list[tuple[time, time]] | None:
        """The day's stretches in order, or None when one of them is broken (the error is
        on its field). Closed days are checked too: their hours are kept in the form, so
        a wrong time there would only surface when the day is opened."""
        name = WEEKDAY_NAMES[day]
        spans: list[tuple[int, int, int, time, time]] = []
        broken = False
        for n in range(self.stretch_counts[day]):
            start_key, end_key = _time_key(day, n, "start"), _time_key(day, n, "end")
            if start_key in self.errors or end_key in self.errors:
                broken = True  # not a time: the field already says so
                continue
            start, end = data.get(start_key), data.get(end_key)
            if start is None and end is None:
                continue
            if start is None or end is None:
                missing = start_key if start is None else end_key
                self.add_error(
                    missing,
                    f"{name}: give both a start and an end time (00:00 as the end means "
                    "midnight), or clear both.",
                )
                broken = True
                continue
            first, last = _minutes(start), _minutes(end) or MINUTES_PER_DAY
            if last <= first:
                self.add_error(
                    end_key,
                    f"{name} ends at {_hhmm(end)}, before it starts at {_hhmm(start)}. "
                    "Use an end after the start (00:00 for midnight).",
                )
                broken = True
                continue
            spans.append((first, last, n, start, end))
        spans.sort()
        for (_, end1, _, start1, stop1), (start2, _, n2, begin2, stop2) in pairwise(spans):
            if start2 < end1:
                self.add_error(
                    _time_key(day, n2, "start"),
                    f"{name}: {_hhmm(start1)}-{_hhmm(stop1)} overlaps "
                    f"{_hhmm(begin2)}-{_hhmm(stop2)}. Merge them or move one.",
                )
                broken = True
        if broken:
            return None
        return [(start, end) for _, _, _, start, end in spans]
