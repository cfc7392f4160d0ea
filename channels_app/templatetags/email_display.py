"""{% load email_display %}: {{ message|display_text }}, {{ message|has_hidden_text }} and
{{ message|display_html }} (sanitized HTML with inline images resolved; still a string
the template escapes unless the caller decides to trust the sanitized HTML)."""

from django import template

from channels_app.email.display import (
    message_display_html,
    message_display_text,
    message_has_hidden_text,
)
from tickets.models import Message

register = template.Library()


@register.filter
def display_text(message: Message) -> str:
    return message_display_text(message)


@register.filter
def has_hidden_text(message: Message) -> bool:
    return message_has_hidden_text(message)


@register.filter
def display_html(message: Message) -> str:
    return message_display_html(message)
