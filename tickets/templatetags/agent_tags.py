"""Small helpers for agent templates that render once per row (an include costs more)."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

CHANNEL_ICONS = {
    "email": "✉",
    "sms": "📱",
    "chat": "💬",
    "web": "🌐",
    "api": "⚙",
    "phone": "☎",
}


@register.simple_tag
def channel_icon(channel: str) -> str:
    return format_html(
        '<span class="ch ch-{0}" title="{0}" aria-label="{0}">{1}</span>',
        channel,
        CHANNEL_ICONS.get(channel, "•"),
    )


SLA_TARGETS = {
    "first_response": "First reply",
    "next_response": "Next reply",
    "resolution": "Resolution",
}


def _duration(minutes: int) -> str:
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


@register.simple_tag
def sla_badge(state: Any, compact: bool = False) -> str:
    """The next SLA target, its state and the business time left (or over). `compact`
    (queue rows) leaves the target's name to the tooltip."""
    if state is None:
        return mark_safe('<span class="sla sla-none muted" title="No SLA applies">—</span>')
    target = SLA_TARGETS.get(state.target, state.target)
    due = f", due {state.due_at:%Y-%m-%d %H:%M} UTC" if state.due_at else ""
    label = "" if compact else f"{target} "
    if state.state == "paused":
        text = f"{label}paused ({_duration(state.business_minutes_left)} left)"
    elif state.state == "breached":
        text = f"{label}overdue {_duration(state.business_minutes_left)}"
    else:
        text = f"{label}in {_duration(state.business_minutes_left)}"
    if compact:
        text = text[0].upper() + text[1:]
    return format_html(
        '<span class="sla sla-{0}" title="{1} ({2} business time{3})">{4}</span>',
        state.state,
        target,
        state.state,
        due,
        text,
    )
