"""The workspace header's waiting-chats counter (templates/agent/_waiting_chats.html)."""

from typing import Any

from django import template
from django.utils import timezone

from helpdesk.roles import is_agent
from tickets.workspace.chats import ChatsWaiting, chats_waiting

register = template.Library()


@register.simple_tag(takes_context=True)
def chats_waiting_now(context: template.Context) -> ChatsWaiting | None:
    """The counter's numbers for an agent's page; None elsewhere (the login page), so
    nobody else learns how busy the desk is."""
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    if not is_agent(user):
        return None
    return chats_waiting(user)


def wait_text(seconds: int) -> str:
    """ "<1 min", "3 min", "1 h 05 min": what the header and chat_alerts.js both show."""
    minutes = seconds // 60
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


@register.simple_tag
def chat_wait(waiting: ChatsWaiting) -> str:
    return wait_text(waiting.wait_seconds(now=timezone.now()))
