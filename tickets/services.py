"""Every write to the interaction history: one function per use case, transactional.

Services take keyword-only arguments, raise TicketError for broken rules and publish
change events after commit.
"""

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.lib import fastsql
from helpdesk.roles import is_agent
from tickets.domain_events import (
    Actor,
    ActorKind,
    CustomerMerged,
    FieldChange,
    MessageAdded,
    TicketChanged,
    TicketCreated,
    TicketMerged,
    publish,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.events import publish_ticket_changed
from tickets.files import content_magic
from tickets.html import html_to_text, sanitize_html
from tickets.identity import normalize_identity
from tickets.models import (
    Attachment,
    Channel,
    ContactIdentity,
    Customer,
    Direction,
    EventKind,
    IdentityKind,
    Message,
    Priority,
    Status,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)
from tickets.permissions import assignment_check
from tickets.replies import reply_channel_for, reply_rule
from tickets.safe_names import safe_filename
from tickets.sla.services import sla_recompute

User = AbstractBaseUser  # the configured user model; services only read its pk and roles
_PRIORITIES = frozenset(Priority.values)  # ChoicesType.values builds a new list per read
_STATUSES = frozenset(Status.values)


@dataclass(frozen=True)
class NewFile:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


# --- events -----------------------------------------------------------------------------


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
            )
        )
    elif kind in _FIELD_OF_KIND:
        change = FieldChange(_FIELD_OF_KIND[EventKind(kind)], data.get("from"), data.get("to"))
        publish(TicketChanged(actor=who, ticket_id=ticket.pk, changes=(change,)))
    return event


def _touch(ticket: Ticket, fields: Iterable[str], *, kind: str) -> None:
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "updated_at"])
    publish_ticket_changed(
        ticket_id=ticket.pk, team_id=ticket.team_id, assignee_id=ticket.assignee_id, kind=kind
    )


def _require_agent(user: Any, *, what: str) -> None:
    if not is_agent(user):
        raise TicketError(TicketErrorCode.NOT_AN_AGENT, f"Only agents can {what}.")


# --- customers and identities -----------------------------------------------------------


def _name_from(kind: str, value: str, display_name: str) -> str:
    if display_name.strip():
        return display_name.strip()[:200]
    if kind == IdentityKind.EMAIL:
        return value.split("@", 1)[0]
    return value[:200]


def identity_resolve(*, kind: str, value: str, display_name: str = "") -> ContactIdentity:
    """The identity for (kind, value), creating it and a new customer when unknown.

    Safe under concurrency: two first messages from one new address at once end up on one
    customer (the loser of the unique-constraint race reads the winner's row).
    """
    normalized = normalize_identity(kind, value)
    # Every inbound message asks this: the statements are built once (helpdesk.lib.fastsql).
    # (kind, value) is unique, so no ORDER BY is needed.
    existing = fastsql.select_one(
        ContactIdentity, where="t.kind = %s AND t.value = %s", params=[kind, normalized],
        related="customer",
    )  # fmt: skip
    if existing is not None:
        if display_name and not existing.display_name:
            existing.display_name = display_name[:200]
            existing.save(update_fields=["display_name"])
        return existing
    try:
        with transaction.atomic():
            customer = fastsql.insert(Customer(name=_name_from(kind, normalized, display_name)))
            return fastsql.insert(
                ContactIdentity(
                    customer=customer, kind=kind, value=normalized, display_name=display_name[:200]
                )
            )
    except IntegrityError:
        return ContactIdentity.objects.select_related("customer").get(kind=kind, value=normalized)


def identity_add(
    *, customer: Customer, kind: str, value: str, actor: Any, verified: bool = False
) -> ContactIdentity:
    _require_agent(actor, what="add contact details")
    normalized = normalize_identity(kind, value)
    existing = ContactIdentity.objects.filter(kind=kind, value=normalized).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise TicketError(
            TicketErrorCode.IDENTITY_TAKEN,
            f"{normalized} already belongs to another customer. Merge the two customers "
            "to join their histories.",
        )
    return ContactIdentity.objects.create(
        customer=customer, kind=kind, value=normalized, verified=verified
    )


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: Any, name: str | None = None, notes: str | None = None
) -> Customer:
    _require_agent(actor, what="edit customers")
    fields = []
    if name is not None:
        customer.name = name.strip()[:200]
        fields.append("name")
    if notes is not None:
        customer.notes = notes
        fields.append("notes")
    if fields:
        customer.save(update_fields=[*fields, "updated_at"])
    return customer


@transaction.atomic
def customer_merge(*, source: Customer, target: Customer, actor: Any) -> Customer:
    """Move source's identities and tickets to target; source keeps a pointer to target."""
    _require_agent(actor, what="merge customers")
    if source.pk == target.pk:
        raise TicketError(TicketErrorCode.MERGE_SELF, "A customer cannot be merged into itself.")
    # Lock both rows in a fixed order so two opposite merges cannot deadlock or cross.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            "One of these customers was already merged. Merge into the surviving record.",
        )
    ticket_ids = list(source.tickets.values_list("pk", flat=True))
    ContactIdentity.objects.filter(customer=source).update(customer=target)
    Ticket.objects.filter(customer=source).update(customer=target, updated_at=timezone.now())
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=ticket_id,
            actor=actor,
            kind=EventKind.CUSTOMER_MERGED,
            data={"from_customer": source.pk, "to_customer": target.pk},
        )
        for ticket_id in ticket_ids
    )
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    if target.organization_id is None and source.organization_id is not None:
        target.organization_id = source.organization_id
    if not target.name and source.name:
        target.name = source.name
    target.save(update_fields=["organization", "name", "updated_at"])
    publish(
        CustomerMerged(
            actor=actor_of(actor), source_customer_id=source.pk, target_customer_id=target.pk
        )
    )
    for ticket_id in ticket_ids:
        publish_ticket_changed(
            ticket_id=ticket_id, team_id=None, assignee_id=None, kind="customer_merged"
        )
    return target


# --- tickets ----------------------------------------------------------------------------


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
        fastsql.insert(ticket)
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
    publish_ticket_changed(
        ticket_id=ticket.pk, team_id=ticket.team_id, assignee_id=ticket.assignee_id, kind="created"
    )
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
    _touch(ticket, fields, kind="status")
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
    _touch(ticket, ["priority"], kind="priority")
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
    previous = ticket.assignee_id
    ticket.assignee = agent
    _touch(ticket, ["assignee"], kind="assigned")
    if previous:
        # The previous assignee's "Mine" queue changes too.
        publish_ticket_changed(
            ticket_id=ticket.pk, team_id=None, assignee_id=previous, kind="assigned"
        )
    return ticket


@transaction.atomic
def ticket_set_team(*, ticket: Ticket, team: Team | None, actor: Any | None) -> Ticket:
    new_id = team.pk if team is not None else None
    if ticket.team_id == new_id:
        return ticket
    event_record(
        ticket=ticket, actor=actor, kind=EventKind.TEAM, data={"from": ticket.team_id, "to": new_id}
    )
    previous = ticket.team_id
    ticket.team = team
    _touch(ticket, ["team"], kind="team")
    publish_ticket_changed(ticket_id=ticket.pk, team_id=previous, assignee_id=None, kind="team")
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
    _touch(ticket, ["subject"], kind="subject")
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
    publish(TicketChanged(actor=actor_of(actor), ticket_id=ticket.pk, changes=(change,)))
    event_record(
        ticket=ticket, actor=actor, kind=EventKind.TAGS, data={"added": added, "removed": removed}
    )
    _touch(ticket, [], kind="tags")
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
    _touch(ticket, [], kind="followers")
    return ticket


@transaction.atomic
def ticket_followers_remove(
    *, ticket: Ticket, identity_ids: Sequence[int], actor: Any | None
) -> Ticket:
    """Stop copying these contacts on replies. Unknown or non-following ids are ignored."""
    removed = list(ticket.followers.filter(pk__in=list(identity_ids)))
    if not removed:
        return ticket
    ticket.followers.remove(*removed)
    event_record(
        ticket=ticket,
        actor=actor,
        kind=EventKind.FOLLOWERS,
        data={"removed": [i.value for i in removed]},
    )
    _touch(ticket, [], kind="followers")
    return ticket


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Any) -> Ticket:
    """Move source's messages, events, followers and tags into target; close source.

    The source keeps `merged_into` so old links and replies to it land on the target.
    """
    _require_agent(actor, what="merge tickets")
    if source.pk == target.pk:
        raise TicketError(TicketErrorCode.MERGE_SELF, "A ticket cannot be merged into itself.")
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            "One of these tickets was already merged into another. Merge into the ticket it "
            "now lives on.",
        )
    if target.status == Status.CLOSED:
        raise TicketError(
            TicketErrorCode.INVALID_STATUS,
            "A closed ticket cannot receive a merge. Pick an open one.",
        )
    moved_messages = Message.objects.filter(ticket=source).update(ticket=target)
    TicketEvent.objects.filter(ticket=source).update(ticket=target)
    # The target's own customer is no follower of it (they get replies anyway).
    target.followers.add(*source.followers.exclude(customer_id=target.customer_id))
    target.tags.add(*source.tags.all())
    if source.customer_id != target.customer_id:
        # The source's customer follows the target, so they keep getting replies.
        identity = source.customer.identities.order_by("pk").first()
        if identity is not None:
            target.followers.add(identity)
    now = timezone.now()
    event_record(
        ticket=target,
        actor=actor,
        kind=EventKind.MERGED,
        data={"from_ticket": source.number, "messages": moved_messages},
    )
    source.merged_into = target
    source.status = Status.CLOSED
    source.closed_at = now
    source.updated_at = now
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    event_record(
        ticket=source, actor=actor, kind=EventKind.MERGED, data={"into_ticket": target.number}
    )
    _touch(target, [], kind="merged")
    publish(
        TicketMerged(actor=actor_of(actor), source_ticket_id=source.pk, target_ticket_id=target.pk)
    )
    sla_recompute(ticket=source)  # SLA engine: the merged ticket's clocks are cancelled
    sla_recompute(ticket=target)  # SLA engine: moved customer messages may need an answer
    publish_ticket_changed(
        ticket_id=source.pk, team_id=source.team_id, assignee_id=source.assignee_id, kind="merged"
    )
    return target


def ticket_resolve_merged(ticket: Ticket) -> Ticket:
    """Follow merge pointers to the ticket that lives on (bounded against cycles)."""
    seen = {ticket.pk}
    while ticket.merged_into_id and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.select_related("customer").get(pk=ticket.merged_into_id)
    return ticket


# --- messages ---------------------------------------------------------------------------


# type/subtype only: parameters and anything odd (a newline would break the header we
# later send it in) are dropped.
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def content_type_clean(value: str) -> str:
    kind = (value or "").split(";", 1)[0].strip().lower()
    return kind if _CONTENT_TYPE.match(kind) else "application/octet-stream"


def attachment_store(*, message: Message, file: NewFile) -> Attachment:
    digest = hashlib.sha256(file.content).hexdigest()
    name = safe_filename(file.filename)
    # What the bytes are beats what the sender declared: an .exe sent as application/pdf
    # is stored, typed and shown as a program.
    attachment = Attachment(
        message=message,
        filename=name,
        content_type=content_magic(file.content) or content_type_clean(file.content_type),
        size=len(file.content),
        sha256=digest,
        content_id=file.content_id.strip("<>")[:255],
    )
    attachment.file.save(name, ContentFile(file.content), save=False)
    attachment.save()
    return attachment


def new_rfc_message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">").strip() or "helpdesk"
    return f"<{uuid.uuid4().hex}@{domain}>"


def reply_channel_default(*, ticket: Ticket) -> str:
    """The channel of the customer's last inbound message, mapped to one we can send on."""
    last = (
        Message.objects.filter(ticket=ticket, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )
    return reply_channel_for(last or ticket.channel)


def reply_recipient(*, ticket: Ticket, channel: str) -> ContactIdentity:
    kind = reply_rule(channel).recipient_kind
    if kind is None:
        raise TicketError(TicketErrorCode.NO_RECIPIENT, f"Replies cannot be sent by {channel}.")
    # Prefer the identity the customer last wrote from on that channel.
    last = (
        Message.objects.filter(
            ticket=ticket, direction=Direction.INBOUND, author_identity__kind=kind
        )
        .select_related("author_identity")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is not None and last.author_identity is not None:
        return last.author_identity
    identity = ticket.customer.identities.filter(kind=kind).order_by("pk").first()
    if identity is None:
        raise TicketError(
            TicketErrorCode.NO_RECIPIENT,
            f"{ticket.customer} has no {IdentityKind(kind).label.lower()} to reply to. Add one "
            "to the customer or reply on another channel.",
        )
    return identity


@transaction.atomic
def message_reply(
    *,
    ticket: Ticket,
    author: Any,
    body_text: str,
    body_html: str = "",
    channel: str | None = None,
    is_internal: bool = False,
    attachments: Sequence[NewFile] = (),
    set_status: str | None = None,
) -> Message:
    """An agent's public reply (delivered on `channel`) or internal note (never delivered).

    Precondition: `author` is an agent. The Message is written, and MessageAdded published
    with its recipients, in one transaction: the outbox (channels_app.delivery) writes a
    Delivery per recipient in that transaction and enqueues the send on commit.
    """
    _require_agent(author, what="reply to tickets")
    body_html = sanitize_html(body_html)
    if not body_text.strip() and body_html:
        body_text = html_to_text(body_html)
    if not body_text.strip() and not attachments:
        raise TicketError(TicketErrorCode.EMPTY_MESSAGE, "Write a message before sending.")
    ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
    if ticket.merged_into_id:
        target = ticket_resolve_merged(ticket)
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            f"This ticket was merged into #{target.number}. Reply there.",
        )
    if ticket.customer.erased_at is not None:
        raise TicketError(
            TicketErrorCode.ALREADY_ERASED,
            "This ticket's customer was erased: it keeps no new messages. Close it.",
        )
    now = timezone.now()
    recipients: list[ContactIdentity] = []
    if channel is not None and channel not in Channel.values:
        raise TicketError(
            TicketErrorCode.INVALID_CHANNEL,
            f"Unknown channel “{channel}”. Use one of: {', '.join(Channel.values)}.",
        )
    channel = channel or reply_channel_default(ticket=ticket)
    rule = reply_rule(channel)
    threaded = rule.threaded and not is_internal
    if not is_internal:
        recipients.append(reply_recipient(ticket=ticket, channel=channel))
        if rule.copies_followers:
            recipients.extend(ticket.followers.filter(kind=rule.recipient_kind, opted_out_at=None))
    last_inbound = (
        Message.objects.filter(ticket=ticket, direction=Direction.INBOUND, is_internal=False)
        .exclude(rfc_message_id="")
        .order_by("-created_at", "-id")
        .first()
    )
    message = Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Direction.OUTBOUND,
        is_internal=is_internal,
        author_user=author,
        subject=ticket.subject,
        body_text=body_text,
        body_html=body_html,
        rfc_message_id=new_rfc_message_id() if threaded else "",
        in_reply_to=last_inbound.rfc_message_id if threaded and last_inbound else "",
        references=_references_for(ticket) if threaded else "",
        created_at=now,
    )
    for file in attachments:
        attachment_store(message=message, file=file)
    fields: list[str] = []
    addresses = tuple(dict.fromkeys(identity.value for identity in recipients))
    if not is_internal:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
        if ticket.status == Status.NEW and set_status is None:
            # Answered: the ticket is now being worked.
            set_status = Status.OPEN
    _touch(ticket, fields, kind="message")
    publish(
        MessageAdded(
            actor=actor_of(author),
            ticket_id=ticket.pk,
            message_id=message.pk,
            channel=channel,
            direction=Direction.OUTBOUND,
            is_internal=is_internal,
            recipients=addresses,
        )
    )
    if not is_internal and ticket.assignee_id is None and settings.HELPDESK_ASSIGN_ON_REPLY:
        # Whoever answers an unclaimed ticket owns it (as Help Scout does); a note is not
        # an answer, so it leaves the ticket in the unassigned queue.
        ticket_assign(ticket=ticket, agent=author, actor=author)
    if not is_internal:
        sla_recompute(ticket=ticket)  # SLA engine: due times follow the change
    if set_status:
        ticket_set_status(ticket=ticket, status=set_status, actor=author)
    return message


def _references_for(ticket: Ticket) -> str:
    # The thread's Message-IDs, oldest first, capped as mail clients do (RFC 5322 3.6.4).
    ids = list(
        Message.objects.filter(ticket=ticket)
        .exclude(rfc_message_id="")
        .order_by("created_at", "id")
        .values_list("rfc_message_id", flat=True)
    )
    if len(ids) > 20:
        ids = ids[:1] + ids[-19:]
    return " ".join(ids)


def note_add(*, ticket: Ticket, author: Any, body_text: str) -> Message:
    return message_reply(ticket=ticket, author=author, body_text=body_text, is_internal=True)
