"""One customer's personal data: the subject-access export and the erasure.

`customer_export` gathers everything the desk holds about a person (GDPR Art. 15) and
`customer_export_archive` writes it as a ZIP: `customer.json` plus the files they sent
and received. Internal notes on their tickets are included by default: they are personal
data about the person, and an exemption (legal advice, someone else's data) is a case by
case decision an operator makes by exporting with `include_internal=False`.

`customer_erase` (Art. 17) anonymizes the person in one transaction and leaves ticket
skeletons (channel, direction, status, times, agents, scores) so reports keep counting.
What other apps hold (raw payloads, the outbox, portal sessions, the audit trail) they
erase or record themselves, subscribed to `CustomerErased`; what they can export they add
through `export_section_register`.
"""

import json
import logging
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO, Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from tickets.domain_events import CustomerErased, CustomerExported, publish
from tickets.errors import TicketError, TicketErrorCode
from tickets.identity import normalize_identity
from tickets.models import (
    Attachment,
    ContactIdentity,
    Customer,
    Direction,
    EventKind,
    IdentityKind,
    Message,
    SatisfactionRating,
    Ticket,
    TicketEvent,
)
from tickets.services import actor_of

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "helpdesk.customer-export.v1"
ERASED_TEXT = "(erased)"
# Whoever may erase: the Django permission to delete customers (the Admins group has it).
ERASE_PERMISSION = "tickets.delete_customer"


@dataclass(frozen=True)
class CustomerScope:
    """Whose data: the customer, every record merged into them, and what hangs off them."""

    customer_id: int
    customer_ids: tuple[int, ...]
    identities: tuple[tuple[str, str], ...]  # (kind, value)
    ticket_ids: tuple[int, ...]
    # Messages on their tickets, and the ones they wrote on other tickets (as a follower).
    message_ids: tuple[int, ...]

    def values(self, *kinds: str) -> list[str]:
        return [value for kind, value in self.identities if not kinds or kind in kinds]


ExportSection = Callable[[CustomerScope], list[dict[str, Any]]]
_sections: dict[str, ExportSection] = {}


def export_section_register(name: str, section: ExportSection) -> None:
    """Add `name` to every export: what `section(scope)` returns (JSON-ready rows). Apps
    register theirs in AppConfig.ready()."""
    _sections[name] = section


# --- finding the person -----------------------------------------------------------------


def customer_lookup(
    *, email: str | None = None, phone: str | None = None, customer_id: int | None = None
) -> Customer:
    """The customer with this email address, phone number or id. Raises TicketError
    (NOT_FOUND) naming what was looked for, or (INVALID_IDENTITY) for a malformed value."""
    if customer_id is not None:
        found = Customer.objects.filter(pk=customer_id).first()
        if found is None:
            raise TicketError(TicketErrorCode.NOT_FOUND, f"There is no customer #{customer_id}.")
        return found
    for kind, value in ((IdentityKind.EMAIL, email), (IdentityKind.PHONE, phone)):
        if not value:
            continue
        normalized = normalize_identity(kind, value)  # TicketError for a malformed one
        identity = (
            ContactIdentity.objects.filter(kind=kind, value=normalized)
            .select_related("customer")
            .first()
        )
        if identity is None:
            raise TicketError(
                TicketErrorCode.NOT_FOUND,
                f"No customer has the {kind} {normalized}. Check the spelling, or look the "
                "customer up in the admin (Customers) and use their id.",
            )
        return identity.customer
    raise TicketError(TicketErrorCode.NOT_FOUND, "Name the customer: an email, phone or id.")


def customer_scope(customer: Customer) -> CustomerScope:
    ids = [customer.pk]
    frontier = [customer.pk]
    while frontier:  # records merged into this one, and into those
        frontier = [
            pk
            for pk in Customer.objects.filter(merged_into_id__in=frontier).values_list(
                "pk", flat=True
            )
            if pk not in ids
        ]
        ids.extend(frontier)
    identities = list(
        ContactIdentity.objects.filter(customer_id__in=ids)
        .order_by("pk")
        .values_list("pk", "kind", "value")
    )
    ticket_ids = list(
        Ticket.objects.filter(customer_id__in=ids).order_by("pk").values_list("pk", flat=True)
    )
    message_ids = list(
        Message.objects.filter(
            Q(ticket_id__in=ticket_ids) | Q(author_identity_id__in=[i[0] for i in identities])
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return CustomerScope(
        customer_id=customer.pk,
        customer_ids=tuple(ids),
        identities=tuple((kind, value) for _, kind, value in identities),
        ticket_ids=tuple(ticket_ids),
        message_ids=tuple(message_ids),
    )


# --- export -----------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _author(message: Message) -> dict[str, Any]:
    if message.author_user is not None:
        user = message.author_user
        return {"role": "agent", "name": user.get_full_name() or user.get_username()}
    if message.author_identity is not None:
        identity = message.author_identity
        return {"role": "customer", "name": identity.display_name, "address": identity.value}
    return {"role": "customer" if message.direction == Direction.INBOUND else "system"}


def attachment_archive_name(attachment: Attachment) -> str:
    return f"attachments/{attachment.pk}/{attachment.filename or 'file'}"


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "file": attachment_archive_name(attachment),
    }


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "created_at": _time(message.created_at),
        "channel": message.channel,
        "direction": message.direction,
        "internal_note": message.is_internal,
        "author": _author(message),
        "subject": message.subject,
        "body_text": message.body_text,
        "attachments": [_attachment(a) for a in message.attachments.all()],
    }


def customer_export(customer: Customer, *, include_internal: bool = True) -> dict[str, Any]:
    """Everything about the customer (and records merged into them) as JSON-ready data."""
    scope = customer_scope(customer)
    customer = Customer.objects.select_related("organization").get(pk=customer.pk)
    org = customer.organization
    merged = Customer.objects.filter(pk__in=scope.customer_ids).exclude(pk=customer.pk)
    messages = Message.objects.select_related("author_user", "author_identity").prefetch_related(
        "attachments"
    )
    if not include_internal:
        messages = messages.filter(is_internal=False)
    tickets = (
        Ticket.objects.filter(pk__in=scope.ticket_ids)
        .select_related("team")
        .prefetch_related("tags", "followers", "events", Prefetch("messages", queryset=messages))
        .order_by("created_at", "pk")
    )
    ticket_rows = []
    for ticket in tickets:
        ticket_rows.append(
            {
                "number": ticket.number,
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": ticket.priority,
                "channel": ticket.channel,
                "team": ticket.team.name if ticket.team else None,
                "tags": [t.name for t in ticket.tags.all()],
                "followers": [f.value for f in ticket.followers.all()],
                "created_at": _time(ticket.created_at),
                "updated_at": _time(ticket.updated_at),
                "solved_at": _time(ticket.solved_at),
                "closed_at": _time(ticket.closed_at),
                "messages": [_message(m) for m in ticket.messages.all()],
                "history": [
                    {"kind": e.kind, "at": _time(e.created_at)} for e in ticket.events.all()
                ],
            }
        )
    elsewhere = messages.filter(pk__in=scope.message_ids).exclude(ticket_id__in=scope.ticket_ids)
    ratings = SatisfactionRating.objects.filter(
        Q(customer_id__in=scope.customer_ids) | Q(ticket_id__in=scope.ticket_ids)
    ).select_related("ticket")
    return {
        "format": EXPORT_FORMAT,
        "generated_at": _time(timezone.now()),
        "internal_notes_included": include_internal,
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "notes": customer.notes,
            "organization": {"name": org.name, "domain": org.domain} if org else None,
            "created_at": _time(customer.created_at),
            "erased_at": _time(customer.erased_at),
            "merged_records": [
                {"id": c.pk, "name": c.name, "created_at": _time(c.created_at)} for c in merged
            ],
        },
        "identities": [
            {
                "kind": i.kind,
                "value": i.value,
                "display_name": i.display_name,
                "verified": i.verified,
                "opted_out_at": _time(i.opted_out_at),
                "created_at": _time(i.created_at),
            }
            for i in ContactIdentity.objects.filter(customer_id__in=scope.customer_ids)
        ],
        "tickets": ticket_rows,
        "messages_on_other_tickets": [
            {"ticket": m.ticket.number, **_message(m)} for m in elsewhere.select_related("ticket")
        ],
        "satisfaction_ratings": [
            {
                "ticket": r.ticket.number,
                "score": r.score,
                "comment": r.comment,
                "created_at": _time(r.created_at),
                "updated_at": _time(r.updated_at),
            }
            for r in ratings
        ],
        **{name: section(scope) for name, section in _sections.items()},
    }


@dataclass(frozen=True)
class ExportSummary:
    tickets: int
    messages: int
    files: int
    missing_files: tuple[str, ...]


def _all_attachments(data: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for ticket in data["tickets"]:
        for message in ticket["messages"]:
            yield from message["attachments"]
    for message in data["messages_on_other_tickets"]:
        yield from message["attachments"]


def customer_export_archive(
    *, customer: Customer, out: IO[bytes], actor: Any | None, include_internal: bool = True
) -> ExportSummary:
    """Write the export as a ZIP to `out`: customer.json and each attachment's file under
    the name its JSON entry gives. A file missing from storage is listed as missing in the
    JSON (`"file": null`), never silently left out. Publishes CustomerExported."""
    data = customer_export(customer, include_internal=include_internal)
    rows = list(_all_attachments(data))
    files = {a.pk: a for a in Attachment.objects.filter(pk__in=[row["id"] for row in rows])}
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            attachment = files[row["id"]]
            try:
                with attachment.file.open("rb") as source, archive.open(row["file"], "w") as sink:
                    shutil.copyfileobj(source, sink, 1024 * 1024)
            except (FileNotFoundError, OSError):
                logger.warning("export: attachment %s has no file in storage", attachment.pk)
                missing.append(row["file"])
                row["file"], row["missing"] = None, True
        archive.writestr(
            "customer.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        )
    publish(
        CustomerExported(
            actor=actor_of(actor), customer_id=customer.pk, include_internal=include_internal
        )
    )
    return ExportSummary(
        tickets=len(data["tickets"]),
        messages=sum(len(t["messages"]) for t in data["tickets"])
        + len(data["messages_on_other_tickets"]),
        files=len(rows) - len(missing),
        missing_files=tuple(missing),
    )


# --- erasure ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureSummary:
    customer_id: int
    customers: int
    identities: int
    tickets: int
    messages: int
    attachments: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _check_may_erase(actor: Any | None) -> None:
    # None: an operator at the shell (manage.py customer_erase), who has the database.
    if actor is not None and not actor.has_perm(ERASE_PERMISSION):
        raise TicketError(
            TicketErrorCode.NOT_ALLOWED,
            "Only admins may erase a customer's personal data. Ask an admin to do it.",
        )


def _files_delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("erase: could not delete the file %s; delete it by hand", name)


def _follower_events_scrub(scope: CustomerScope, values: set[str]) -> None:
    """Their address in "followers changed" events of other people's tickets."""
    if not values:
        return
    events = TicketEvent.objects.filter(kind=EventKind.FOLLOWERS).exclude(
        ticket_id__in=scope.ticket_ids
    )
    if connection.vendor == "postgresql":  # JSON containment: SQLite has none, it reads all
        needle = Q()
        for value in values:
            needle |= Q(data__added__contains=[value]) | Q(data__removed__contains=[value])
        events = events.filter(needle)
    for event in events:
        lists = [items for items in event.data.values() if isinstance(items, list)]
        if not any(v in values for items in lists for v in items):
            continue
        event.data = {
            key: [ERASED_TEXT if v in values else v for v in items]
            if isinstance(items, list)
            else items
            for key, items in event.data.items()
        }
        event.save(update_fields=["data"])


def customer_erase(customer: Customer, *, actor: Any | None) -> ErasureSummary:
    """Erase the customer's personal data, irreversibly, in one transaction: name, notes,
    organization, identities (with SMS opt-outs), the text of every message on their
    tickets and of messages they wrote elsewhere, attachments (files deleted after
    commit), rating comments and ticket subjects. The customer row and its tickets stay
    as "Erased customer #id" with their statuses, times and scores, so reports still
    count them. Publishes CustomerErased, inside the transaction, for the apps that hold
    more (raw payloads, outbox, portal sessions; the audit trail records the erasure).

    Raises TicketError: NOT_ALLOWED without the delete-customer permission, NOT_FOUND
    for a customer that is gone, ALREADY_ERASED the second time, MERGE_MERGED for a
    record merged into another (erase the one it was merged into)."""
    _check_may_erase(actor)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        if locked is None:
            raise TicketError(TicketErrorCode.NOT_FOUND, f"There is no customer #{customer.pk}.")
        if locked.erased_at is not None:
            raise TicketError(
                TicketErrorCode.ALREADY_ERASED,
                f"Customer #{locked.pk} was already erased on {locked.erased_at:%Y-%m-%d}.",
            )
        if locked.merged_into_id is not None:
            raise TicketError(
                TicketErrorCode.MERGE_MERGED,
                f"Customer #{locked.pk} was merged into customer #{locked.merged_into_id}, "
                "which holds their history: erase that one.",
            )
        scope = customer_scope(locked)
        # Hold every row a new message would reference (FOR UPDATE blocks the key-share
        # lock a foreign key takes), then read the scope again: a message that committed
        # meanwhile is in it, and one still being written waits, then fails on the
        # deleted identity and arrives again as a new contact.
        list(Customer.objects.select_for_update().filter(pk__in=scope.customer_ids))
        list(ContactIdentity.objects.select_for_update().filter(customer_id__in=scope.customer_ids))
        list(Ticket.objects.select_for_update().filter(customer_id__in=scope.customer_ids))
        scope = customer_scope(locked)
        now = timezone.now()
        values = set(scope.values())

        attachments = list(
            Attachment.objects.filter(message_id__in=scope.message_ids).values_list("pk", "file")
        )
        Attachment.objects.filter(pk__in=[pk for pk, _ in attachments]).delete()
        Message.objects.filter(pk__in=scope.message_ids).update(
            subject="",
            body_text=ERASED_TEXT,
            body_html="",
            external_id=None,
            rfc_message_id="",
            in_reply_to="",
            references="",
        )
        # Subjects and addresses an event kept; status, priority and the rest are values
        # and ids that reports read.
        TicketEvent.objects.filter(
            ticket_id__in=scope.ticket_ids, kind__in=[EventKind.SUBJECT, EventKind.FOLLOWERS]
        ).update(data={"erased": True})
        _follower_events_scrub(scope, values)
        SatisfactionRating.objects.filter(
            Q(customer_id__in=scope.customer_ids) | Q(ticket_id__in=scope.ticket_ids)
        ).update(comment="")
        tickets = list(Ticket.objects.filter(pk__in=scope.ticket_ids))
        for ticket in tickets:
            ticket.subject = ERASED_TEXT
            # Old reply addresses and portal links must not reach the skeleton.
            ticket.reply_token = secrets.token_hex(8)
            ticket.csat_due_at = None
        Ticket.objects.bulk_update(
            tickets, ["subject", "reply_token", "csat_due_at"], batch_size=500
        )
        identities = ContactIdentity.objects.filter(customer_id__in=scope.customer_ids)
        identity_count = identities.count()
        identities.delete()
        for record in Customer.objects.filter(pk__in=scope.customer_ids):
            record.name = f"Erased customer #{record.pk}"
            record.notes = ""
            record.organization = None
            record.erased_at = now
            record.save(update_fields=["name", "notes", "organization", "erased_at", "updated_at"])
        publish(
            CustomerErased(
                actor=actor_of(actor),
                customer_id=scope.customer_id,
                customer_ids=scope.customer_ids,
                identities=scope.identities,
                ticket_ids=scope.ticket_ids,
                message_ids=scope.message_ids,
            )
        )
        names = [name for _, name in attachments if name]
        transaction.on_commit(lambda: _files_delete(names))
    logger.info("erased customer %s (%d tickets)", scope.customer_id, len(tickets))
    return ErasureSummary(
        customer_id=scope.customer_id,
        customers=len(scope.customer_ids),
        identities=identity_count,
        tickets=len(scope.ticket_ids),
        messages=len(scope.message_ids),
        attachments=len(attachments),
    )
