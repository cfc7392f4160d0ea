"""What a role may do besides seeing tickets (docs/access.md): field changes, assignment
and shared macros. One helper per fact, read by the services and by the pages that offer
the action.
"""

from typing import Any

from helpdesk.roles import is_admin
from tickets.errors import TicketError, TicketErrorCode

EDIT_FIELDS = "tickets.edit_ticket_fields"
ASSIGN_OTHERS = "tickets.assign_others"
MANAGE_MACROS = "tickets.manage_macros"


def _holds(user: Any, perm: str) -> bool:
    return is_admin(user) or bool(getattr(user, "has_perm", None) and user.has_perm(perm))


def may_edit_fields(user: Any) -> bool:
    return _holds(user, EDIT_FIELDS)


def fields_check(*, actor: Any) -> None:
    """Refuse a change of status, priority, team, assignee or tags by a role that adds
    internal notes only (a light agent)."""
    if not may_edit_fields(actor):
        raise TicketError(
            TicketErrorCode.NOT_ALLOWED,
            "Your role adds internal notes only: it cannot change the ticket's status or "
            "other fields. Send the note without them.",
        )


def may_assign_others(user: Any) -> bool:
    return _holds(user, ASSIGN_OTHERS)


def may_manage_shared_macros(user: Any) -> bool:
    return _holds(user, MANAGE_MACROS)


def assignment_check(*, actor: Any | None, current_id: int | None, new_id: int | None) -> None:
    """Refuse an assignee change the actor's role does not allow.

    Without `assign_others` an agent changes the assignee only between nobody and
    themselves: takes an unassigned ticket, or lets go of their own. A ticket another agent
    holds stays theirs, and nobody else is given work. The system (no actor) and holders
    of the permission may do anything.
    """
    if actor is None or getattr(actor, "pk", None) is None or may_assign_others(actor):
        return
    if new_id not in (None, actor.pk):
        raise TicketError(
            TicketErrorCode.NOT_ALLOWED,
            "Your role cannot assign tickets to other agents. Assign it to yourself, or ask "
            "a lead.",
        )
    if current_id not in (None, actor.pk):
        raise TicketError(
            TicketErrorCode.NOT_ALLOWED,
            "This ticket is assigned to another agent, and your role cannot reassign it. Ask "
            "them or a lead.",
        )
