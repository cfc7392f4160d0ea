"""What every write shares: the agent check, the audit row and the domain event it
stands for, and the touch that moves a ticket up its queues."""

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from helpdesk.lib import fastsql
from helpdesk.roles import is_agent
from tickets.domain_events import (
    Actor,
    ActorKind,
    FieldChange,
    TicketChanged,
    TicketCreated,
    publish,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import (
    EventKind,
    Ticket,
    TicketEvent,
)

# Audit kinds whose `from`/`to` are one ticket field's before and after.
_FIELD_OF_KIND = {
    EventKind.STATUS: "status",
    EventKind.PRIORITY: "priority",
    EventKind.ASSIGNED: "assignee",
    EventKind.TEAM: "team",
    EventKind.SUBJECT: "subject",
}


def actor_of(user: Any | None) -> Actor:
    """The domain-event actor for a service's `actor` argument (None: the system)."""
    if user is None:
        return Actor.system()
    if getattr(user, "api_token_id", None) is not None:  # set by the API's token auth
        return Actor(kind=ActorKind.API, user_id=user.pk)
    return Actor(kind=ActorKind.AGENT, user_id=user.pk)


def event_record(
    *,
    ticket: Ticket,
    actor: Any | None,
    kind: str,
    data: dict[str, Any] | None = None,
    event_actor: Actor | None = None,
) -> TicketEvent:
    """Write one audit row and publish the domain event it stands for: every audited
    change is also told to the subscribers (tickets.domain_events)."""
    data = data or {}
    token_id = getattr(actor, "api_token_id", None)  # set by the API's token auth
    if token_id is not None:
        data = {**data, "via": "api", "api_token": token_id}
    # Ingest writes one per new ticket: built once (helpdesk.lib.fastsql); no receiver
    # watches TicketEvent, so skipping the signals loses nothing for the other callers.
    event = fastsql.insert(
        TicketEvent(ticket=ticket, actor=actor if actor is not None else None, kind=kind, data=data)
    )
    who = event_actor or actor_of(actor)
    if kind == EventKind.CREATED:
        publish(
            TicketCreated(
                actor=who,
                ticket_id=ticket.pk,
                customer_id=ticket.customer_id,
                channel=ticket.channel,
                team_id=ticket.team_id,
                assignee_id=ticket.assignee_id,
            )
        )
    elif kind in _FIELD_OF_KIND:
        change = FieldChange(_FIELD_OF_KIND[EventKind(kind)], data.get("from"), data.get("to"))
        publish(ticket_changed(ticket=ticket, actor=who, change=change))
    return event


def ticket_changed(*, ticket: Ticket, actor: Actor, change: FieldChange) -> TicketChanged:
    """The event for one field change; the audit row is written before the field, so the
    ticket's team and assignee after it are read from the change where it is theirs."""
    return TicketChanged(
        actor=actor,
        ticket_id=ticket.pk,
        changes=(change,),
        team_id=change.after if change.field == "team" else ticket.team_id,
        assignee_id=change.after if change.field == "assignee" else ticket.assignee_id,
    )


def _touch(ticket: Ticket, fields: Iterable[str]) -> None:
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "updated_at"])


def _require_agent(user: Any, *, what: str) -> None:
    if not is_agent(user):
        raise TicketError(TicketErrorCode.NOT_AN_AGENT, f"Only agents can {what}.")
