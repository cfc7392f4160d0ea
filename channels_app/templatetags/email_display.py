"""{% load email_display %} {{ message|display_text }} and {{ message|has_hidden_text }}."""

from django import template

from channels_app.display import message_display_text, message_has_hidden_text
from tickets.models import Message

register = template.Library()


@register.filter
def display_text(message: Message) -> str:
    return message_display_text(message)


@register.filter
def has_hidden_text(message: Message) -> bool:
    return message_has_hidden_text(message)
