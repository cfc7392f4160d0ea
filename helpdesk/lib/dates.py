"""Dates and times typed by people (query strings, filters) kept within a sane range.

Python's date runs from year 1 to 9999, so a valid-looking `9999-12-31` plus a day, or
`0001-01-01` moved to UTC, overflows (OverflowError: a 500). Every user-supplied date
goes through one of these helpers: out of range is just another malformed date, which
each caller already answers (a form error, a message, a fallback), never an error page.
"""

from datetime import date, datetime

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Wide enough for any real ticket or report period, narrow enough that a year's worth of
# arithmetic and any time-zone shift stay far from Python's limits.
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
OUT_OF_RANGE = f"Pick a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."


def date_in_range(value: date) -> date:
    """`value` itself, or ValueError when it lies outside EARLIEST..LATEST."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(OUT_OF_RANGE)
    return value


def date_parse(text: str) -> date:
    """An ISO date (2026-03-01) within range; ValueError for anything else."""
    return date_in_range(date.fromisoformat(text))


def datetime_parse(text: str) -> datetime | None:
    """An ISO date-time within range, made aware in the current time zone when it is
    naive; None for an empty string; ValueError when malformed or out of range."""
    value = parse_datetime(text)
    if value is None:
        if text:
            raise ValueError(f"{text!r} is not a date and time.")
        return None
    date_in_range(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class BoundedDateField(forms.DateField):
    """A form DateField that refuses dates outside EARLIEST..LATEST with a field error."""

    def to_python(self, value: str | datetime | date | None) -> date | None:
        result = super().to_python(value)
        if result is not None:
            try:
                date_in_range(result)
            except ValueError as exc:
                raise forms.ValidationError(str(exc), code="out_of_range") from exc
        return result
