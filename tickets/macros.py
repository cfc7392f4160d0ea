"""Macros: a canned reply rendered from placeholders, plus field changes. The agent
workspace and the API both read and apply them through here.

The body is a Django template rendered by a private engine over a whitelisted dict of
plain strings, so a macro can only print the values offered here. Template tags are
refused outright: `{% load %}`, `{% include %}`, `{% debug %}` and friends would reach
beyond the dict (libraries, files, sys.modules). Only `{{ placeholder|filter }}` remains,
and a dict of strings has nothing to traverse to settings or models.
"""

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.template import Context, Engine, TemplateSyntaxError

from tickets.errors import TicketError, TicketErrorCode
from tickets.models import IdentityKind, Macro, Ticket
from tickets.permissions import fields_check
from tickets.services import (
    _require_agent,
    ticket_assign,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_team,
    ticket_tags_change,
)

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


def macro_render(*, macro: Macro, ticket: Ticket, agent: Any) -> str:
    return macro_render_text(body=macro.body, context=macro_context(ticket=ticket, agent=agent))


def macro_changes(*, macro: Macro) -> list[str]:
    """What applying the macro changes besides the text, in the order macro_apply applies
    it, worded for the composer ("status: Pending"). Reads set_team and set_assignee:
    load the macro with them (macro_get_for does)."""
    changes = []
    if macro.set_priority:
        changes.append(f"priority: {macro.get_set_priority_display()}")
    if macro.set_team_id is not None and macro.set_team is not None:
        changes.append(f"team: {macro.set_team.name}")
    if macro.set_assignee_id is not None and macro.set_assignee is not None:
        who = macro.set_assignee
        changes.append(f"assignee: {(who.get_full_name() or who.get_username()).strip()}")
    if macro.tag_list:
        changes.append(f"tags: +{', +'.join(macro.tag_list)}")
    if macro.set_status:
        changes.append(f"status: {macro.get_set_status_display()}")
    return changes


def macros_usable_by(user: Any) -> QuerySet[Macro]:
    """The agent's and the shared active macros, with what they change (team, assignee)
    loaded."""
    return Macro.objects.filter(
        Q(owner__isnull=True) | Q(owner=user), is_active=True
    ).select_related("set_team", "set_assignee")


def macro_list(*, user: Any) -> list[Macro]:
    return list(macros_usable_by(user).order_by("name", "id"))


def macro_get_for(*, user: Any, macro_id: int) -> Macro | None:
    return macros_usable_by(user).filter(pk=macro_id).first()


@transaction.atomic
def macro_apply(*, macro: Macro, ticket: Ticket, actor: Any) -> Ticket:
    """Apply a macro's field changes (its text is the caller's: the workspace puts it in the
    composer, the API may send it)."""
    _require_agent(actor, what="apply macros")
    if macro.owner_id is not None and macro.owner_id != actor.pk:
        raise TicketError(TicketErrorCode.NOT_FOUND, "That macro belongs to another agent.")
    if macro_changes_fields(macro):
        fields_check(actor=actor)
    if macro.set_priority:
        ticket = ticket_set_priority(ticket=ticket, priority=macro.set_priority, actor=actor)
    if macro.set_team_id is not None:
        ticket = ticket_set_team(ticket=ticket, team=macro.set_team, actor=actor)
    if macro.set_assignee_id is not None:
        ticket = ticket_assign(ticket=ticket, agent=macro.set_assignee, actor=actor)
    if macro.tag_list:
        ticket = ticket_tags_change(ticket=ticket, actor=actor, add=macro.tag_list)
    if macro.set_status:
        ticket = ticket_set_status(ticket=ticket, status=macro.set_status, actor=actor)
    return ticket


def macro_changes_fields(macro: Macro) -> bool:
    """Whether applying the macro changes more than the text (a role that only adds notes
    may not apply it)."""
    return bool(
        macro.set_priority
        or macro.set_status
        or macro.set_team_id is not None
        or macro.set_assignee_id is not None
        or macro.tag_list
    )
