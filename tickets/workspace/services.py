"""Writes the agent workspace adds on top of tickets.services: read marks, macros, bulk.

Each one composes the foundation's services, so events, audit and broadcasts stay in one
place.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tickets.errors import TicketError, TicketErrorCode
from tickets.models import (
    AfterSend,
    AgentPreference,
    Macro,
    Priority,
    Status,
    Team,
    Ticket,
    TicketRead,
)
from tickets.permissions import assignment_check, fields_check, may_manage_shared_macros
from tickets.services import (
    _require_agent,
    message_reply,
    ticket_assign,
    ticket_merge,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_team,
    ticket_tags_change,
)
from tickets.visibility import tickets_visible_to


def ticket_read_mark(*, ticket: Ticket, user: Any) -> TicketRead:
    """The agent has seen the ticket as it is now: the queue drops its unread marker."""
    read, _ = TicketRead.objects.update_or_create(
        user=user, ticket=ticket, defaults={"seen_at": timezone.now()}
    )
    return read


def agent_preference_set(*, user: Any, after_send: str) -> AgentPreference:
    """Store where the agent's ticket page goes after a send."""
    _require_agent(user, what="keep workspace preferences")
    if after_send not in AfterSend.values:
        raise TicketError(
            TicketErrorCode.INVALID_PREFERENCE,
            f"Unknown choice “{after_send}”. Use one of: {', '.join(AfterSend.values)}.",
        )
    preference, _ = AgentPreference.objects.update_or_create(
        user=user, defaults={"after_send": after_send, "updated_at": timezone.now()}
    )
    return preference


@transaction.atomic
def macro_apply(*, macro: Macro, ticket: Ticket, actor: Any) -> Ticket:
    """Apply a macro's field changes (its text goes in through the composer)."""
    _require_agent(actor, what="apply macros")
    if macro.owner_id is not None and macro.owner_id != actor.pk:
        raise TicketError(TicketErrorCode.NOT_FOUND, "That macro belongs to another agent.")
    if _macro_changes_fields(macro):
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


def _macro_changes_fields(macro: Macro) -> bool:
    return bool(
        macro.set_priority
        or macro.set_status
        or macro.set_team_id is not None
        or macro.set_assignee_id is not None
        or macro.tag_list
    )


@transaction.atomic
def macro_create(
    *, actor: Any, name: str, body: str, shared: bool = False, **changes: Any
) -> Macro:
    """A personal macro, or a shared one for those whose role manages shared macros."""
    _require_agent(actor, what="create macros")
    if shared and not may_manage_shared_macros(actor):
        raise TicketError(
            TicketErrorCode.NOT_ALLOWED,
            "Your role cannot create shared macros: save it as your own, or ask a lead.",
        )
    if not name.strip():
        raise TicketError(TicketErrorCode.INVALID_MACRO, "Give the macro a name.")
    from tickets.workspace.macros import macro_render_text

    # Refuse template tags and broken placeholders when the macro is saved, not when an
    # agent first uses it on a ticket.
    macro_render_text(body=body, context={})
    return Macro.objects.create(
        name=name.strip()[:120], body=body, owner=None if shared else actor, **changes
    )


@transaction.atomic
def macro_delete(*, macro: Macro, actor: Any) -> None:
    """An agent deletes their own macro; shared ones need the role that manages them."""
    if macro.owner_id is None:
        if not may_manage_shared_macros(actor):
            raise TicketError(
                TicketErrorCode.NOT_ALLOWED,
                "Your role cannot delete shared macros. Ask a lead or an admin.",
            )
    elif macro.owner_id != actor.pk:
        raise TicketError(TicketErrorCode.NOT_FOUND, "You can only delete your own macros.")
    macro.delete()


@dataclass(frozen=True)
class BulkResult:
    changed: int
    errors: tuple[str, ...]


BULK_ACTIONS = ("assign", "status", "priority", "tag", "merge")


def ticket_bulk_update(
    *,
    tickets: Sequence[Ticket],
    actor: Any,
    action: str,
    value: str,
    agent: Any | None = None,
    team: Team | None = None,
) -> BulkResult:
    """One action over many tickets, each in its own transaction: a ticket that refuses
    (closed, merged) is reported and does not undo the others."""
    _require_agent(actor, what="change tickets")
    if action not in BULK_ACTIONS:
        raise TicketError(TicketErrorCode.INVALID_STATUS, f"Unknown bulk action “{action}”.")
    if action == "status" and value not in Status.values:
        raise TicketError(TicketErrorCode.INVALID_STATUS, f"Unknown status “{value}”.")
    if action == "priority" and value not in Priority.values:
        raise TicketError(TicketErrorCode.INVALID_PRIORITY, f"Unknown priority “{value}”.")
    if action == "merge":
        return _bulk_merge(tickets=tickets, actor=actor, into=value)
    if action == "assign":
        # Refused once for the whole selection, not once per ticket.
        assignment_check(actor=actor, current_id=None, new_id=getattr(agent, "pk", None))
    changed, errors = 0, []
    for ticket in tickets:
        try:
            with transaction.atomic():
                if action == "assign":
                    ticket_assign(ticket=ticket, agent=agent, actor=actor)
                elif action == "status":
                    ticket_set_status(ticket=ticket, status=value, actor=actor)
                elif action == "priority":
                    ticket_set_priority(ticket=ticket, priority=value, actor=actor)
                else:
                    ticket_tags_change(ticket=ticket, actor=actor, add=[value])
            changed += 1
        except TicketError as exc:
            errors.append(f"#{ticket.number}: {exc.message}")
    return BulkResult(changed=changed, errors=tuple(errors))


def _bulk_merge(*, tickets: Sequence[Ticket], actor: Any, into: str) -> BulkResult:
    number = into.strip().lstrip("#")
    visible = tickets_visible_to(actor)
    target = visible.filter(number=int(number)).first() if number.isdigit() else None
    if target is None:
        if len(tickets) < 2:
            raise TicketError(
                TicketErrorCode.NOT_FOUND,
                "Select two or more tickets to merge, or give the number to merge into.",
            )
        # Without a number, the oldest selected ticket receives the others.
        target = min(tickets, key=lambda t: (t.created_at, t.pk))
    changed, errors = 0, []
    for ticket in tickets:
        if ticket.pk == target.pk:
            continue
        try:
            ticket_merge(source=ticket, target=target, actor=actor)
            changed += 1
        except TicketError as exc:
            errors.append(f"#{ticket.number}: {exc.message}")
    return BulkResult(changed=changed, errors=tuple(errors))


def reply_send(
    *,
    ticket: Ticket,
    author: Any,
    body_text: str,
    is_internal: bool,
    channel: str | None,
    attachments: Sequence[Any] = (),
    set_status: str | None = None,
    macro: Macro | None = None,
) -> Ticket:
    """The composer's one action: the message, the macro's changes and the new status."""
    if set_status and set_status not in (Status.PENDING, Status.SOLVED, Status.ON_HOLD):
        raise TicketError(
            TicketErrorCode.INVALID_STATUS, "Send and set status works with pending or solved."
        )
    if set_status or (macro is not None and _macro_changes_fields(macro)):
        fields_check(actor=author)  # before anything is written
    with transaction.atomic():
        message_reply(
            ticket=ticket,
            author=author,
            body_text=body_text,
            channel=None if is_internal else channel,
            is_internal=is_internal,
            attachments=attachments,
        )
        ticket.refresh_from_db()
        if macro is not None:
            ticket = macro_apply(macro=macro, ticket=ticket, actor=author)
        if set_status:
            ticket = ticket_set_status(ticket=ticket, status=set_status, actor=author)
    return ticket
