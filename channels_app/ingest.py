"""The one inbound path: every channel's message enters the history here.

raw_inbound_store()     keep the payload as received (own transaction, before parsing)
raw_inbound_process()   parse with the adapter; quarantine what cannot be read
raw_inbound_receive()   both in one transaction, for a caller that acknowledges the
                        payload only after this returns (IMAP, the MTA pipe)
inbound_message_ingest() dedup, identity, thread, append or create, status, publish
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels_app.agent_notifications import agent_notify_on_commit
from channels_app.inbound import InboundMessage, ParseError
from channels_app.models import RawInbound, RawStatus
from channels_app.registry import ADAPTERS, channel_spec
from helpdesk.lib import fastsql
from helpdesk.lib.config_cache import config_snapshot
from tickets.domain_events import (
    Actor,
    ActorKind,
    FieldChange,
    MessageAdded,
    publish,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.html import html_to_text, sanitize_html
from tickets.models import (
    ACTIVE_STATUSES,
    REOPENABLE_STATUSES,
    Channel,
    ContactIdentity,
    Direction,
    EventKind,
    Message,
    Priority,
    Status,
    Team,
    Ticket,
)
from tickets.services import (
    NewFile,
    attachment_store,
    event_record,
    identity_resolve,
    ticket_changed,
    ticket_create,
    ticket_followers_add,
    ticket_resolve_merged,
)
from tickets.sla.services import sla_recompute

logger = logging.getLogger(__name__)

JOIN_OPEN_TICKET_WINDOW = timedelta(days=7)
MAX_EXTERNAL_ID = 500  # Message.external_id's column
_CHANNELS = frozenset(Channel.values)  # ChoicesType.values builds a new list per read


@dataclass(frozen=True)
class IngestResult:
    message: Message
    ticket: Ticket
    created_ticket: bool
    duplicate: bool


def raw_inbound_store(
    *,
    channel: str,
    adapter: str,
    source: str,
    payload: bytes,
    content_type: str = "application/octet-stream",
    meta: dict[str, Any] | None = None,
) -> RawInbound:
    """Store a payload before anything reads it.

    Precondition: call it outside a transaction (views, commands and tasks run in
    autocommit), so the row commits at once and no later failure while parsing or
    ingesting can roll it back. Inside a caller's transaction it can only be a savepoint
    of it, and is kept only if the caller commits.
    """
    fields = {
        "channel": channel,
        "adapter": adapter,
        "source": source[:100],
        "payload": payload,
        "content_type": content_type[:100],
        "meta": meta or {},
    }
    if not transaction.get_connection().in_atomic_block:
        # Autocommit: the single INSERT is committed when it returns, exactly as durable as
        # a transaction of its own, without the BEGIN/COMMIT round trips.
        return RawInbound.objects.create(**fields)
    with transaction.atomic():
        return RawInbound.objects.create(**fields)


def raw_inbound_process(*, raw_id: int) -> IngestResult | None:
    """Parse and ingest a stored payload; None when it was quarantined or already processed.

    Quarantines what cannot be parsed, or ingested for a reason a retry would not fix (bad
    data, an adapter bug); lets operational database errors through so the caller retries.
    Safe to run twice, even at once: the row lock and the `processed` status make the
    second run a no-op, and dedup on the external id backs that up.
    """
    with config_snapshot(), transaction.atomic():
        raw = RawInbound.objects.select_for_update().get(pk=raw_id)
        if raw.status == RawStatus.PROCESSED:
            return None
        # Counted with the final status update (or the quarantine) in this transaction: it
        # commits or rolls back with them, as a separate update here would.
        raw.attempts += 1
        parser = ADAPTERS.get(raw.adapter)
        try:
            if parser is None:
                raise ParseError(
                    f"No adapter named “{raw.adapter}” is installed. Install it, then "
                    "process this payload again."
                )
            message = parser(bytes(raw.payload), {k: str(v) for k, v in raw.meta.items()})
        except Exception as exc:  # an unreadable payload or an adapter bug: keep it, say why
            _quarantine(raw, exc)
            return None
        try:
            # Its own savepoint undoes a failed ingest, so the quarantine below can write.
            result = inbound_message_ingest(message=message, raw=raw)
        except (TicketError, ValueError, UnicodeError, LookupError, DataError) as exc:
            _quarantine(raw, exc)
            return None
        RawInbound.objects.filter(pk=raw.pk).update(
            status=RawStatus.PROCESSED,
            error="",
            processed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        return result


# A payload still `received` this long after it arrived was left behind: a worker died
# between storing and processing it, or the database or broker was down when it came.
RETRY_RECEIVED_AFTER = timedelta(minutes=5)


def raw_inbound_retry_stale(*, now: datetime | None = None) -> int:
    """Process payloads of every channel left `received`: whatever was stored is ingested
    eventually. Reads only such rows (the status index); at most 100 a run."""
    current = now or timezone.now()
    ids = list(
        RawInbound.objects.filter(
            status=RawStatus.RECEIVED,
            received_at__lte=current - RETRY_RECEIVED_AFTER,
            attempts__lt=10,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:100]
    )
    for raw_id in ids:
        try:
            raw_inbound_process(raw_id=raw_id)
        except DatabaseError:
            logger.warning("payload %s could not be processed yet", raw_id, exc_info=True)
    return len(ids)


class ProcessingDeferred(Exception):
    """raw_inbound_receive stored the payload (committed, status `received`) but processing
    raised an error that a retry may fix; `__cause__` is that error. The retry of stale
    payloads processes it again."""

    def __init__(self, raw: RawInbound) -> None:
        super().__init__(f"Stored as payload {raw.pk}; processing failed and is retried.")
        self.raw = raw


def raw_inbound_receive(
    *,
    channel: str,
    adapter: str,
    source: str,
    payload: bytes,
    content_type: str = "application/octet-stream",
    meta: dict[str, Any] | None = None,
) -> tuple[RawInbound, IngestResult | None]:
    """Store a payload and process it in ONE transaction: one commit (one WAL flush) for
    the message instead of two, and no second read of the row.

    For callers that acknowledge the payload to its sender only after this returns (IMAP
    flags it seen, the MTA pipe exits 0): should the process die before the commit,
    nothing was stored and nothing acknowledged, so the sender still has it. Once this
    returns, the payload is committed whatever processing made of it:

    - ingested: status `processed`, and the result is returned;
    - unreadable, or refused by ingest (bad data): quarantined, None returned;
    - any other error (a deadlock, a lock timeout, a bug): ingest's savepoint is rolled
      back, the payload commits as `received` for the retry of stale payloads, and
      ProcessingDeferred is raised from the error. Should the database itself be gone,
      the commit fails too and its DatabaseError propagates: nothing was stored.

    Inside a caller's transaction all of this is a savepoint of it, kept only if the
    caller commits.
    """
    fields: dict[str, Any] = {
        "channel": channel,
        "adapter": adapter,
        "source": source[:100],
        "payload": payload,
        "content_type": content_type[:100],
        "meta": meta or {},
    }
    deferred: BaseException | None = None
    with config_snapshot(), transaction.atomic():
        # Written as processed: the row commits only together with the outcome below, which
        # rewrites it when the message is quarantined or left for a retry.
        raw = fastsql.insert(
            RawInbound(
                **fields, status=RawStatus.PROCESSED, attempts=1, processed_at=timezone.now()
            )
        )
        parser = ADAPTERS.get(adapter)
        try:
            if parser is None:
                raise ParseError(
                    f"No adapter named “{adapter}” is installed. Install it, then process "
                    "this payload again."
                )
            message = parser(payload, {k: str(v) for k, v in raw.meta.items()})
        except Exception as exc:  # an unreadable payload or an adapter bug: keep it, say why
            _quarantine(raw, exc, count_attempt=False)
            return raw, None
        try:
            # Its own savepoint: a failure undoes the ingest and keeps the stored payload.
            result = inbound_message_ingest(message=message, raw=raw)
        except (TicketError, ValueError, UnicodeError, LookupError, DataError) as exc:
            _quarantine(raw, exc, count_attempt=False)
            return raw, None
        except Exception as exc:
            logger.warning("processing raw inbound %s failed; retried later", raw.pk)
            RawInbound.objects.filter(pk=raw.pk).update(
                status=RawStatus.RECEIVED, processed_at=None
            )
            raw.status, raw.processed_at = RawStatus.RECEIVED, None
            deferred = exc
    if deferred is not None:
        raise ProcessingDeferred(raw) from deferred
    return raw, result


def _quarantine(raw: RawInbound, exc: Exception, *, count_attempt: bool = True) -> None:
    error = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    logger.warning("quarantined raw inbound %s (%s): %s", raw.pk, raw.adapter, error)
    raw.status = RawStatus.QUARANTINED
    raw.error = f"{exc.__class__.__name__}: {error}"[:5000]
    raw.processed_at = None
    RawInbound.objects.filter(pk=raw.pk).update(
        status=raw.status,
        error=raw.error,
        processed_at=None,
        attempts=F("attempts") + (1 if count_attempt else 0),
    )


def inbound_message_ingest(
    *, message: InboundMessage, raw: RawInbound | None = None
) -> IngestResult:
    """Append `message` to the customer's history. Idempotent on (channel, external_id).

    Everything happens in one block: a transaction of its own in autocommit, a savepoint
    inside a caller's transaction. Either way a failure leaves nothing behind and the
    caller's transaction stays usable (raw_inbound_process quarantines in it).
    """
    try:
        with transaction.atomic():
            # No lookup first: the unique (channel, external_id) constraint finds a
            # duplicate at the message's INSERT, and the rollback of this block undoes
            # whatever was written before it (its on-commit events are dropped with it;
            # attachments are written only after that INSERT). Duplicates are rare (a
            # re-fetch after a crash, a provider's retry); the saved query is on every
            # message.
            return _ingest(message, raw)
    except IntegrityError:
        # A duplicate (stored earlier, or by another worker at the same time: its commit
        # is visible now); any other constraint is raised.
        duplicate = _find_duplicate(message)
        if duplicate is None:
            raise
        return _duplicate(duplicate)


def _duplicate(message: Message) -> IngestResult:
    # The ticket it lives on now, should it have been merged since it first came in.
    ticket = ticket_resolve_merged(message.ticket)
    return IngestResult(message, ticket, created_ticket=False, duplicate=True)


def _find_duplicate(message: InboundMessage) -> Message | None:
    if not message.external_id:
        return None
    return (
        Message.objects.select_related("ticket")
        .filter(channel=message.channel, external_id=message.external_id)
        .first()
    )


def _check(message: InboundMessage) -> None:
    if message.channel not in _CHANNELS:
        raise TicketError(
            TicketErrorCode.INVALID_MESSAGE,
            f"Unknown channel “{message.channel}”. Use one of: {', '.join(Channel.values)}.",
        )
    if message.external_id and len(message.external_id) > MAX_EXTERNAL_ID:
        # Truncating would merge two different provider ids into one dedup key.
        raise TicketError(
            TicketErrorCode.INVALID_MESSAGE,
            f"The message id is longer than {MAX_EXTERNAL_ID} characters; send a shorter one.",
        )


def _ingest(message: InboundMessage, raw: RawInbound | None) -> IngestResult:
    _check(message)
    identity = identity_resolve(
        kind=message.sender.kind,
        value=message.sender.value,
        display_name=message.sender.display_name,
    )
    ticket, locked = _find_thread(message, identity)
    customer = Actor(kind=ActorKind.CUSTOMER, identity_id=identity.pk)
    created = False
    if ticket is not None and ticket.status == Status.CLOSED and not message.is_automated:
        # A closed ticket stays closed; the customer's new words open a follow-up. An
        # auto-reply or bounce is only filed on the closed ticket (it needs no answer).
        previous = ticket
        ticket = _new_ticket(message, identity, follow_up_of=previous, actor=customer)
        event_record(
            ticket=previous, actor=None, kind=EventKind.FOLLOW_UP, data={"ticket": ticket.number}
        )
        created = True
    elif ticket is None:
        ticket = _new_ticket(message, identity, follow_up_of=None, actor=customer)
        created = True
    if not created and not locked:
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    # else: read with its lock by _find_thread, or created in this transaction (invisible
    # to every other one until we commit, so it needs no lock and no fresh read).

    hints = [hint.strip() for hint in message.thread_hints if hint and hint.strip()]
    html = sanitize_html(message.html or "")
    text = message.text if message.text.strip() else html_to_text(html)
    stored = fastsql.insert(Message(
        ticket=ticket,
        channel=message.channel,
        direction=Direction.INBOUND,
        author_identity=identity,
        subject=message.subject[:255],
        body_text=text,
        body_html=html,
        external_id=message.external_id or None,
        rfc_message_id=message.rfc_message_id[:500],
        in_reply_to=hints[0][:500] if hints else "",
        references=" ".join(hints)[:20000],
        is_automated=message.is_automated,
        raw=raw,
        created_at=message.received_at,
    ))  # fmt: skip
    for file in message.attachments:
        attachment_store(
            message=stored,
            file=NewFile(file.filename, file.content_type, file.content, file.content_id),
        )
    if message.cc:
        followers = []
        for cc in message.cc:
            try:
                followers.append(
                    identity_resolve(kind=cc.kind, value=cc.value, display_name=cc.display_name)
                )
            except TicketError:
                logger.info("ignored unreadable cc %r on ticket %s", cc.value, ticket.pk)
        ticket_followers_add(ticket=ticket, identities=followers, actor=None)

    # A ticket created in this transaction a moment ago already has its updated_at and
    # last_inbound_at (ticket_create): rewriting the row would only move updated_at by
    # milliseconds, so only an existing ticket is updated here.
    fields = ["updated_at"]
    if not created:
        ticket.updated_at = timezone.now()
    if not message.is_automated and not created:
        ticket.last_inbound_at = message.received_at
        fields.append("last_inbound_at")
        if ticket.status in REOPENABLE_STATUSES:
            event_record(
                ticket=ticket,
                actor=None,
                kind=EventKind.REOPENED,
                data={"from": ticket.status, "to": Status.OPEN, "by": "customer"},
            )
            change = FieldChange("status", ticket.status, Status.OPEN)
            publish(ticket_changed(ticket=ticket, actor=customer, change=change))
            ticket.status = Status.OPEN
            ticket.solved_at = None
            fields += ["status", "solved_at"]
    if not created:
        fastsql.update(ticket, fields)
    # SLA engine: next response / resume after a customer message. The row is ours already:
    # locked above, or created in this transaction.
    sla_recompute(ticket=ticket, ticket_locked=True, new_ticket=created)
    added = MessageAdded(
        actor=customer,
        ticket_id=ticket.pk,
        message_id=stored.pk,
        channel=message.channel,
        direction=Direction.INBOUND,
        is_internal=False,
        opens_ticket=created,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        at=message.received_at,
    )
    publish(added)
    spec = channel_spec(message.channel)
    if spec is not None and spec.ingested is not None:
        spec.ingested(message=message, stored=stored, ticket=ticket, created=created, raw=raw)
    notifies = spec is None or spec.notifies_assignee
    if notifies and not created and not message.is_automated and ticket.assignee_id:
        agent_notify_on_commit(
            ticket_id=ticket.pk, kind="customer_reply", user_id=ticket.assignee_id
        )
    return IngestResult(stored, ticket, created_ticket=created, duplicate=False)


def _new_ticket(
    message: InboundMessage,
    identity: ContactIdentity,
    *,
    follow_up_of: Ticket | None,
    actor: Actor,
) -> Ticket:
    team = Team.objects.filter(pk=message.team_id).first() if message.team_id else None
    if team is None and follow_up_of is not None:
        team = follow_up_of.team
    text = message.text if message.text.strip() else html_to_text(sanitize_html(message.html or ""))
    subject = message.subject.strip() or _subject_from_text(text)
    return ticket_create(
        customer=identity.customer,
        subject=subject,
        channel=message.channel,
        priority=message.priority or (follow_up_of.priority if follow_up_of else Priority.NORMAL),
        team=team,
        follow_up_of=follow_up_of,
        defer_sla=True,  # _ingest recomputes once the first message is stored
        last_inbound_at=None if message.is_automated else message.received_at,
        event_actor=actor,
    )


def _subject_from_text(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return (first[:77] + "…") if len(first) > 78 else (first or "(no subject)")


def _find_thread(message: InboundMessage, identity: ContactIdentity) -> tuple[Ticket | None, bool]:
    """The ticket this message continues, in order of confidence, or None for a new one;
    and whether it was read with its row lock (FOR UPDATE) already."""
    ticket = _by_reference(message.ticket_reference, identity)
    locked = False
    # Blank hints would match every message stored without a Message-ID (SMS, chat...).
    hints = [hint.strip() for hint in message.thread_hints[:50] if hint and hint.strip()]
    if ticket is None and hints:
        # Message-IDs are unguessable: a match is trusted whoever the sender is (a CC'd
        # colleague replying to our mail belongs on the ticket).
        # The latest matching message's ticket, read with its lock at once (one query):
        # ingest needs both.
        # Built once per number of hints (helpdesk.lib.fastsql): every reply asks this. The
        # hints are parameters; only their count shapes the statement.
        placeholders = ", ".join(["%s"] * len(hints))
        ticket = fastsql.select_one(
            Ticket,
            where=(
                f"t.id = (SELECT m.ticket_id FROM {Message._meta.db_table} m"  # noqa: S608
                f" WHERE m.rfc_message_id IN ({placeholders}) ORDER BY m.created_at DESC LIMIT 1)"
            ),
            params=list(hints),
            lock=True,
        )
        locked = ticket is not None
    if ticket is None and message.join_open_ticket:
        window = getattr(settings, "HELPDESK_JOIN_OPEN_TICKET_WINDOW", JOIN_OPEN_TICKET_WINDOW)
        if message.join_window is not None:
            window = message.join_window
        ticket = (
            Ticket.objects.filter(
                customer_id=identity.customer_id,
                status__in=sorted(ACTIVE_STATUSES),
                merged_into__isnull=True,
                updated_at__gte=timezone.now() - window,
            )
            .order_by("-updated_at")
            .first()
        )
    if ticket is None:
        return None, False
    if ticket.merged_into_id:
        return ticket_resolve_merged(ticket), False  # the surviving ticket, not locked yet
    return ticket, locked


def _by_reference(reference: str | None, identity: ContactIdentity) -> Ticket | None:
    if not reference:
        return None
    reference = reference.strip().lstrip("#")
    # The secret reply token first: a random hex token can be all digits (1 in ~2,000) and
    # must not be mistaken for a ticket number.
    by_token = Ticket.objects.filter(reply_token=reference).first() if reference else None
    if by_token is not None:
        return by_token
    if reference.isascii() and reference.isdigit() and len(reference) < 19:
        ticket = Ticket.objects.filter(number=int(reference)).first()
        if ticket is None:
            return None
        # A bare number is guessable: only the ticket's customer or a follower may use it.
        allowed = (
            ticket.customer_id == identity.customer_id
            or ticket.followers.filter(pk=identity.pk).exists()
        )
        return ticket if allowed else None
    return None
