"""Macro placeholders rendered into plain text: the one renderer the workspace's composer
and the automation rules' replies share.

The body is a Django template rendered by a private engine over a whitelisted dict of
plain strings, so a macro can only print the values offered here. Template tags are
refused outright: `{% load %}`, `{% include %}`, `{% debug %}` and friends would reach
beyond the dict (libraries, files, sys.modules). Only `{{ placeholder|filter }}` remains,
and a dict of strings has nothing to traverse to settings or models.
"""

from typing import Any

from django.template import Context, Engine, TemplateSyntaxError

from tickets.errors import TicketError, TicketErrorCode
from tickets.models import IdentityKind, Ticket

MAX_MACRO_CHARS = 20_000

# No loaders, no extra libraries, no autoescape (the result is plain text that the
# templates escape when they show it), unknown names render as nothing.
_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False)


def macro_context(*, ticket: Ticket, agent: Any) -> dict[str, dict[str, str]]:
    customer = ticket.customer
    email = next(
        (i.value for i in customer.identities.all() if i.kind == IdentityKind.EMAIL),
        "",
    )
    agent_name = (agent.get_full_name() or agent.get_username()).strip()
    return {
        "customer": {
            "name": customer.name,
            "first_name": customer.first_name,
            "email": email,
        },
        "ticket": {
            "number": str(ticket.number),
            "subject": ticket.subject,
            "status": ticket.get_status_display(),
            "priority": ticket.get_priority_display(),
        },
        "agent": {
            "name": agent_name,
            "first_name": (agent.first_name or agent_name).strip(),
        },
    }


def macro_render_text(*, body: str, context: dict[str, dict[str, str]]) -> str:
    if "{%" in body:
        raise TicketError(
            TicketErrorCode.INVALID_MACRO,
            "Macros may only use placeholders like {{ customer.first_name }}, not template "
            "tags ({% ... %}). Edit the macro and remove them.",
        )
    if len(body) > MAX_MACRO_CHARS:
        raise TicketError(
            TicketErrorCode.INVALID_MACRO,
            f"This macro is longer than {MAX_MACRO_CHARS} characters. Shorten it.",
        )
    try:
        template = _ENGINE.from_string(body)
        return template.render(Context(context, autoescape=False))
    except TemplateSyntaxError as exc:
        raise TicketError(
            TicketErrorCode.INVALID_MACRO,
            f"This macro has a broken placeholder ({exc}). Fix it in the macro editor.",
        ) from exc
