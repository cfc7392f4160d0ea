"""From a domain event to a webhook payload: `{id, type, timestamp, data}`.

Built inside the event's transaction, so `data` is the state the change left, whenever the
delivery goes out; it holds ids, values and times, shaped like the API's objects."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from tickets.domain_events import (
    CustomerMerged,
    DomainEvent,
    MessageAdded,
    SatisfactionRated,
    SlaBreached,
    SlaWarning,
    TicketChanged,
    TicketCreated,
    TicketMerged,
)
from tickets.integrations.models import WebhookEvent
from tickets.models import Customer, Message, SatisfactionRating, Team, Ticket


@dataclass(frozen=True)
class Payload:
    id: str
    type: str
    body: dict[str, Any]


def event_id_of(event: DomainEvent) -> str:
    """The same id for the same event object, however often it is handed over: the
    database's unique key on (event, webhook) then writes its delivery once."""
    digest = hashlib.sha256(f"{type(event).__qualname__}:{event!r}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list | set | frozenset):
        return [_plain(v) for v in value]
    return value


def ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
    }


def ticket_object(ticket_id: int) -> dict[str, Any]:
    ticket = Ticket.objects.select_related("customer", "assignee", "team").get(pk=ticket_id)
    assignee, team = ticket.assignee, ticket.team
    return {
        **ticket_ref(ticket),
        "priority": ticket.priority,
        "channel": ticket.channel,
        "customer": {"id": ticket.customer_id, "name": ticket.customer.name},
        "assignee": {"id": assignee.pk, "username": assignee.get_username()} if assignee else None,
        "team": {"id": team.pk, "name": team.name} if team else None,
        "tags": sorted(ticket.tags.values_list("name", flat=True)),
        "created_at": _time(ticket.created_at),
        "updated_at": _time(ticket.updated_at),
    }


def _ticket_created(event: TicketCreated) -> dict[str, Any]:
    return {"ticket": ticket_object(event.ticket_id)}


def _ticket_changed(event: TicketChanged) -> dict[str, Any]:
    ticket = ticket_object(event.ticket_id)
    # The core publishes a change before it saves the row: the event's `after` is the
    # ticket's state once the change is done.
    for change in event.changes:
        ticket.update(_field_after(change.field, change.after))
    ticket["updated_at"] = _time(event.at)
    return {
        "ticket": ticket,
        # People and teams by id, tags as sorted names (tickets.domain_events).
        "changes": {
            c.field: {"before": _plain(c.before), "after": _plain(c.after)} for c in event.changes
        },
    }


def _field_after(name: str, after: Any) -> dict[str, Any]:
    if name == "assignee":
        user = get_user_model().objects.filter(pk=after).first() if after else None
        return {"assignee": {"id": user.pk, "username": user.get_username()} if user else None}
    if name == "team":
        team = Team.objects.filter(pk=after).first() if after else None
        return {"team": {"id": team.pk, "name": team.name} if team else None}
    if name == "tags":
        return {"tags": sorted(after or ())}
    if name in ("status", "priority", "subject"):
        return {name: after}
    return {}


def _message_added(event: MessageAdded) -> dict[str, Any]:
    message = Message.objects.select_related("ticket", "author_user").get(pk=event.message_id)
    author = message.author_user
    return {
        "ticket": ticket_ref(message.ticket),
        "message": {
            "id": message.pk,
            "channel": message.channel,
            "direction": message.direction,
            "internal": message.is_internal,
            "author": {"id": author.pk, "username": author.get_username()} if author else None,
            "customer_identity_id": message.author_identity_id,
            "subject": message.subject,
            "text": message.body_text,
            "created_at": _time(message.created_at),
        },
    }


def _ticket_merged(event: TicketMerged) -> dict[str, Any]:
    tickets = Ticket.objects.in_bulk([event.source_ticket_id, event.target_ticket_id])
    return {
        "source": ticket_ref(tickets[event.source_ticket_id]),
        "target": ticket_ref(tickets[event.target_ticket_id]),
    }


def _customer_merged(event: CustomerMerged) -> dict[str, Any]:
    target = Customer.objects.get(pk=event.target_customer_id)
    return {
        "source": {"id": event.source_customer_id},
        "target": {"id": target.pk, "name": target.name},
    }


def _sla(event: SlaWarning | SlaBreached) -> dict[str, Any]:
    return {
        "ticket": ticket_ref(Ticket.objects.get(pk=event.ticket_id)),
        "target": event.target,
        "due_at": _time(event.due_at),
    }


def _satisfaction_rated(event: SatisfactionRated) -> dict[str, Any]:
    rating = SatisfactionRating.objects.select_related("ticket").get(pk=event.rating_id)
    return {
        "ticket": ticket_ref(rating.ticket),
        "rating": {"id": rating.pk, "score": rating.score, "comment": rating.comment},
    }


BUILDERS: dict[type[DomainEvent], tuple[WebhookEvent, Callable[[Any], dict[str, Any]]]] = {
    TicketCreated: (WebhookEvent.TICKET_CREATED, _ticket_created),
    TicketChanged: (WebhookEvent.TICKET_UPDATED, _ticket_changed),
    MessageAdded: (WebhookEvent.MESSAGE_CREATED, _message_added),
    TicketMerged: (WebhookEvent.TICKET_MERGED, _ticket_merged),
    CustomerMerged: (WebhookEvent.CUSTOMER_MERGED, _customer_merged),
    SlaWarning: (WebhookEvent.SLA_WARNING, _sla),
    SlaBreached: (WebhookEvent.SLA_BREACHED, _sla),
    SatisfactionRated: (WebhookEvent.SATISFACTION_RATED, _satisfaction_rated),
}


def event_type_of(event: DomainEvent) -> WebhookEvent | None:
    found = BUILDERS.get(type(event))
    return found[0] if found else None


def payload_for(event: DomainEvent) -> Payload:
    kind, build = BUILDERS[type(event)]
    event_id = event_id_of(event)
    body = {"id": event_id, "type": kind.value, "timestamp": _time(event.at), "data": build(event)}
    return Payload(id=event_id, type=kind.value, body=body)
