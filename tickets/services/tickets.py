"""Tickets: creation and every change of their fields, tags and followers."""

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.lib import fastsql
from tickets.domain_events import (
    Actor,
    FieldChange,
    publish,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import (
    ContactIdentity,
    Customer,
    EventKind,
    Priority,
    Status,
    Tag,
    Team,
    Ticket,
)
from tickets.permissions import assignment_check
from tickets.services.base import _require_agent, _touch, actor_of, event_record, ticket_changed
from tickets.sla.services import sla_recompute

_PRIORITIES = frozenset(Priority.values)  # ChoicesType.values builds a new list per read
_STATUSES = frozenset(Status.values)


def ticket_create(
    *,
    customer: Customer,
    subject: str,
    channel: str,
    actor: Any | None = None,
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    assignee: Any | None = None,
    status: str = Status.NEW,
    follow_up_of: Ticket | None = None,
    defer_sla: bool = False,
    last_inbound_at: datetime | None = None,
    event_actor: Actor | None = None,
) -> Ticket:
    """A new ticket. `defer_sla=True` when the caller adds the first message in the same
    transaction and recomputes the SLA itself (ingest), so the clocks are computed once;
    `last_inbound_at` when that first message is the customer's (saves ingest an update)."""
    if priority not in _PRIORITIES:
        raise TicketError(TicketErrorCode.INVALID_PRIORITY, f"Unknown priority “{priority}”.")
    if status not in _STATUSES:
        raise TicketError(TicketErrorCode.INVALID_STATUS, f"Unknown status “{status}”.")
    if assignee is not None:
        _require_agent(assignee, what="be assigned tickets")
        assignment_check(actor=actor, current_id=None, new_id=assignee.pk)
    # Inside a caller's transaction (ingest) its savepoint already covers these writes; a
    # savepoint of our own would only cost two round trips per ticket.
    nested = transaction.get_connection().in_atomic_block
    with nullcontext() if nested else transaction.atomic():
        return _ticket_insert(
            customer=customer,
            subject=subject,
            channel=channel,
            actor=actor,
            priority=priority,
            team=team,
            assignee=assignee,
            status=status,
            follow_up_of=follow_up_of,
            defer_sla=defer_sla,
            last_inbound_at=last_inbound_at,
            event_actor=event_actor,
        )


def _ticket_insert(
    *,
    customer: Customer,
    subject: str,
    channel: str,
    actor: Any | None,
    priority: str,
    team: Team | None,
    assignee: Any | None,
    status: str,
    follow_up_of: Ticket | None,
    defer_sla: bool,
    last_inbound_at: datetime | None,
    event_actor: Actor | None = None,
) -> Ticket:
    now = timezone.now()
    ticket = Ticket(
        subject=(subject.strip() or "(no subject)")[:255],
        channel=channel,
        customer=customer,
        priority=priority,
        team=team,
        assignee=assignee,
        status=status,
        follow_up_of=follow_up_of,
        last_inbound_at=last_inbound_at,
        created_at=now,
        updated_at=now,
    )
    # The number is derived from the primary key inside the same transaction: unique and
    # gap-tolerant on every backend, with no counter row to contend on. On PostgreSQL the
    # key is drawn from its sequence first, so the row is inserted with its number (no
    # UPDATE right after the INSERT); elsewhere the number follows the INSERT.
    ticket.pk = _next_ticket_id()
    if ticket.pk is not None:
        ticket.number = settings.HELPDESK_TICKET_NUMBER_START + ticket.pk
        fastsql.insert(ticket)  # ingest creates most tickets: built once (fastsql)
    else:
        ticket.save(force_insert=True)
        ticket.number = settings.HELPDESK_TICKET_NUMBER_START + ticket.pk
        ticket.save(update_fields=["number"])
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.CREATED,
        data={"channel": channel},
        event_actor=event_actor,
    )
    if not defer_sla:
        sla_recompute(ticket=ticket)  # SLA engine: due times follow the change
    return ticket


def _next_ticket_id() -> int | None:
    """The next ticket primary key from PostgreSQL's sequence (None on other backends)."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        row = cursor.fetchone()
    return int(row[0])


def satisfaction_delay() -> timedelta:
    """How long after a solve the customer is asked for a rating (HELPDESK_CSAT_DELAY)."""
    return timedelta(seconds=max(settings.HELPDESK_CSAT_DELAY, 0))


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, actor: Any | None) -> Ticket:
    if status not in Status.values:
        raise TicketError(
            TicketErrorCode.INVALID_STATUS,
            f"Unknown status “{status}”. Use one of: {', '.join(Status.values)}.",
        )
    if ticket.status == status:
        return ticket
    if ticket.status == Status.CLOSED:
        raise TicketError(
            TicketErrorCode.INVALID_STATUS,
            "A closed ticket cannot change status. A new message opens a follow-up ticket.",
        )
    old = ticket.status
    now = timezone.now()
    ticket.status = status
    fields = ["status"]
    if status == Status.SOLVED:
        ticket.solved_at = now
        # The satisfaction tick mails the request once this passes, if still solved.
        ticket.csat_due_at = now + satisfaction_delay()
        fields += ["solved_at", "csat_due_at"]
    elif status == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
        if ticket.solved_at is None:
            ticket.solved_at = now
            fields.append("solved_at")
    elif old == Status.SOLVED:
        ticket.solved_at = None
        fields.append("solved_at")
    if status != Status.SOLVED and ticket.csat_due_at is not None:
        ticket.csat_due_at = None  # reopened (or closed) before the request went out
        fields.append("csat_due_at")
    event_record(
        ticket=ticket, actor=actor, kind=EventKind.STATUS, data={"from": old, "to": status}
    )
    _touch(ticket, fields)
    sla_recompute(ticket=ticket)  # SLA engine: due times follow the change
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, priority: str, actor: Any | None) -> Ticket:
    if priority not in Priority.values:
        raise TicketError(
            TicketErrorCode.INVALID_PRIORITY,
            f"Unknown priority “{priority}”. Use one of: {', '.join(Priority.values)}.",
        )
    if ticket.priority == priority:
        return ticket
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.PRIORITY,
        data={"from": ticket.priority, "to": priority},
    )
    ticket.priority = priority
    _touch(ticket, ["priority"])
    sla_recompute(ticket=ticket)  # SLA engine: due times follow the change
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, agent: Any | None, actor: Any | None) -> Ticket:
    """Assign to an agent, or unassign with agent=None."""
    if agent is not None:
        _require_agent(agent, what="be assigned tickets")
    new_id = agent.pk if agent is not None else None
    if ticket.assignee_id == new_id:
        return ticket
    assignment_check(actor=actor, current_id=ticket.assignee_id, new_id=new_id)
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.ASSIGNED,
        data={"from": ticket.assignee_id, "to": new_id},
    )
    ticket.assignee = agent
    _touch(ticket, ["assignee"])
    return ticket


@transaction.atomic
def ticket_set_team(*, ticket: Ticket, team: Team | None, actor: Any | None) -> Ticket:
    new_id = team.pk if team is not None else None
    if ticket.team_id == new_id:
        return ticket
    event_record(
        ticket=ticket, actor=actor, kind=EventKind.TEAM, data={"from": ticket.team_id, "to": new_id}
    )
    ticket.team = team
    _touch(ticket, ["team"])
    sla_recompute(ticket=ticket)  # SLA engine: due times follow the change
    return ticket


@transaction.atomic
def ticket_set_subject(*, ticket: Ticket, subject: str, actor: Any) -> Ticket:
    _require_agent(actor, what="edit ticket subjects")
    # A subject is one line: the header's box wraps, but a pasted newline is a space.
    subject = " ".join(subject.split())[:255]
    if not subject:
        raise TicketError(TicketErrorCode.EMPTY_MESSAGE, "A ticket needs a subject.")
    if subject == ticket.subject:
        return ticket
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.SUBJECT,
        data={"from": ticket.subject, "to": subject},
    )
    ticket.subject = subject
    _touch(ticket, ["subject"])
    return ticket


def _tag_names(names: Iterable[str]) -> list[str]:
    cleaned = []
    for name in names:
        tag = name.strip().lower().replace(" ", "-")
        if not tag:
            continue
        if len(tag) > 50 or not all(ch.isalnum() or ch in "-_" for ch in tag):
            raise TicketError(
                TicketErrorCode.INVALID_TAG,
                f"“{name}” is not a valid tag: use letters, digits, - and _ (50 at most).",
            )
        cleaned.append(tag)
    return sorted(set(cleaned))


@transaction.atomic
def ticket_tags_change(
    *, ticket: Ticket, actor: Any | None, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> Ticket:
    to_add, to_remove = _tag_names(add), _tag_names(remove)
    current = set(ticket.tags.values_list("name", flat=True))
    added = [name for name in to_add if name not in current]
    removed = [name for name in to_remove if name in current]
    if not added and not removed:
        return ticket
    if added:
        Tag.objects.bulk_create([Tag(name=name) for name in added], ignore_conflicts=True)
        ticket.tags.add(*Tag.objects.filter(name__in=added))
    if removed:
        ticket.tags.remove(*Tag.objects.filter(name__in=removed))
    after = tuple(sorted((current | set(added)) - set(removed)))
    change = FieldChange("tags", tuple(sorted(current)), after)
    publish(ticket_changed(ticket=ticket, actor=actor_of(actor), change=change))
    event_record(
        ticket=ticket, actor=actor, kind=EventKind.TAGS, data={"added": added, "removed": removed}
    )
    _touch(ticket, [])
    sla_recompute(ticket=ticket)  # SLA engine: due times follow the change (tag conditions)
    return ticket


@transaction.atomic
def ticket_followers_add(
    *, ticket: Ticket, identities: Sequence[ContactIdentity], actor: Any | None
) -> Ticket:
    current = set(ticket.followers.values_list("pk", flat=True))
    new = [i for i in identities if i.pk not in current and i.customer_id != ticket.customer_id]
    if not new:
        return ticket
    ticket.followers.add(*new)
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.FOLLOWERS,
        data={"added": [i.value for i in new]},
    )
    after = tuple(sorted(current | {i.pk for i in new}))
    change = FieldChange("followers", tuple(sorted(current)), after)
    publish(ticket_changed(ticket=ticket, actor=actor_of(actor), change=change))
    _touch(ticket, [])
    return ticket


@transaction.atomic
def ticket_followers_remove(
    *, ticket: Ticket, identity_ids: Sequence[int], actor: Any | None
) -> Ticket:
    """Stop copying these contacts on replies. Unknown or non-following ids are ignored."""
    followers = list(ticket.followers.all())
    wanted = set(identity_ids)
    removed = [i for i in followers if i.pk in wanted]
    if not removed:
        return ticket
    ticket.followers.remove(*removed)
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.FOLLOWERS,
        data={"removed": [i.value for i in removed]},
    )
    before = tuple(sorted(i.pk for i in followers))
    change = FieldChange("followers", before, tuple(pk for pk in before if pk not in wanted))
    publish(ticket_changed(ticket=ticket, actor=actor_of(actor), change=change))
    _touch(ticket, [])
    return ticket
