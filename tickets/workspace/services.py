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
from tickets.macros import macro_apply, macro_render_text
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
from tickets.services import (
    _require_agent,
    message_reply,
    ticket_assign,
    ticket_merge,
    ticket_set_priority,
    ticket_set_status,
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
def macro_create(
    *, actor: Any, name: str, body: str, shared: bool = False, **changes: Any
) -> Macro:
    """A personal macro, or a shared one when an admin asks for it."""
    from helpdesk.roles import is_admin

    _require_agent(actor, what="create macros")
    if shared and not is_admin(actor):
        raise TicketError(TicketErrorCode.NOT_AN_AGENT, "Only admins can create shared macros.")
    if not name.strip():
        raise TicketError(TicketErrorCode.INVALID_MACRO, "Give the macro a name.")
    macro_render_text(body=body, context={})  # refuses tags and broken placeholders now
    return Macro.objects.create(
        name=name.strip()[:120], body=body, owner=None if shared else actor, **changes
    )


@transaction.atomic
def macro_delete(*, macro: Macro, actor: Any) -> None:
    """An agent deletes their own macro; shared ones are admins' (here or in the admin)."""
    from helpdesk.roles import is_admin

    if macro.owner_id != actor.pk and not (macro.owner_id is None and is_admin(actor)):
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
