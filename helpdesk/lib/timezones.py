"""Timezones picked from a list: the IANA zones this machine knows, common ones first."""

import functools
import zoneinfo
from typing import Any

from django import forms

# Shown first, above the regions: where most help desks keep their office hours.
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
# The canonical IANA regions. Legacy aliases (US/Eastern, CET, Etc/GMT+1 ...) still
# validate, so a value stored before stays selectable, but they are not offered.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
# Names tzdata ships that describe this machine, not a place.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})

Choices = list[tuple[str, Any]]


@functools.cache
def known_timezones() -> frozenset[str]:
    """Every zone name zoneinfo can load here (it scans tzdata once, so cached)."""
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


def _option(name: str) -> tuple[str, str]:
    return name, name.replace("_", " ")


def timezone_choices(current: str | None = None) -> Choices:
    """Grouped choices for a select: "Common", then one group per region, sorted. A
    `current` value outside those groups (a legacy alias) gets its own group, so editing
    a record never silently changes its zone."""
    zones = known_timezones()
    groups: Choices = [("Common", [_option(name) for name in COMMON_TIMEZONES if name in zones])]
    for region in REGIONS:
        names = sorted(name for name in zones if name.startswith(f"{region}/"))
        if names:
            groups.append((region, [_option(name) for name in names]))
    offered = {value for _, options in groups for value, _ in options}
    if current and current in zones and current not in offered:
        groups.append(("Current", [_option(current)]))
    return groups


class TimezoneChoiceField(forms.ChoiceField):
    """A select of IANA zones; anything zoneinfo does not know is refused in words."""

    default_error_messages = {
        "invalid_choice": (
            "“%(value)s” is not an IANA timezone. Pick one from the list, "
            "e.g. Europe/Berlin or America/New_York."
        ),
    }

    def __init__(self, *, current: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Intervals are local wall-clock times in this zone.")
        super().__init__(choices=timezone_choices(current), **kwargs)

    def valid_value(self, value: Any) -> bool:
        return str(value) in known_timezones()
