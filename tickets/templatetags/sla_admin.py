"""Durations in the SLA admin pages, written the way the target boxes take them."""

from django import template

from tickets.sla.admin_forms import hours_minutes as _hours_minutes

register = template.Library()


@register.filter
def hours_minutes(minutes: int | None) -> str:
    """`{{ 270|hours_minutes }}` -> "4h 30m"."""
    return _hours_minutes(minutes)
