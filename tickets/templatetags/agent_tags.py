"""Small helpers for agent templates that render once per row (an include costs more)."""

from django import template
from django.utils.html import format_html

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
