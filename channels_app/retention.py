"""The daily retention purge (docs/trust.md, "Retention").

Processed raw payloads older than HELPDESK_RETENTION_RAW_DAYS lose their content (the
payload and the request metadata); the row stays, with its channel, source, status and
times, and the messages made from it are untouched. Quarantined and unprocessed payloads
are kept: an admin still has to look at them. Closed tickets are the core's
(tickets.retention); their payloads are purged here first, whatever their age. Both are
off while their setting is unset.

Batched like the tickets' purge: each chunk is one short UPDATE in its own transaction,
read through the partial index raw_retention_due, which purged rows leave.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from channels_app.models import RawInbound, RawStatus
from helpdesk.audit.services import audit_record
from tickets.models import Message, Status
from tickets.retention import closed_tickets_cutoff, closed_tickets_due, closed_tickets_purge

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass(frozen=True)
class RetentionReport:
    raw_payloads: int
    tickets: int
    attachments: int

    @property
    def anything(self) -> bool:
        return bool(self.raw_payloads or self.tickets or self.attachments)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _raw_due(now: datetime) -> QuerySet[RawInbound] | None:
    days = settings.HELPDESK_RETENTION_RAW_DAYS
    if days is None:
        return None
    return RawInbound.objects.filter(
        status=RawStatus.PROCESSED,
        purged_at__isnull=True,
        received_at__lt=now - timedelta(days=days),
    )


def raw_payloads_purge(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    now = now or timezone.now()
    due = _raw_due(now)
    if due is None:
        return 0
    return _purge(due, batch_size)


def _raw_of_due_tickets(now: datetime) -> QuerySet[RawInbound] | None:
    """The payloads behind the messages of closed tickets past retention: deleting a
    ticket must not leave its content behind in the raw store (Message.raw is SET_NULL)."""
    cutoff = closed_tickets_cutoff(now)
    if cutoff is None:
        return None
    return RawInbound.objects.filter(
        purged_at__isnull=True,
        pk__in=Message.objects.filter(
            ticket__status=Status.CLOSED, ticket__closed_at__lt=cutoff, raw__isnull=False
        ).values("raw_id"),
    )


def _purge(due: QuerySet[RawInbound], batch_size: int) -> int:
    purged = 0
    while True:
        ids = list(due.order_by("received_at", "id").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        # Conditional on still being due: a concurrent purge or erasure got there first.
        purged += RawInbound.objects.filter(pk__in=ids, purged_at__isnull=True).update(
            payload=b"", meta={}, purged_at=timezone.now()
        )


def retention_due(*, now: datetime | None = None) -> RetentionReport:
    """What a purge would remove now (the dry run)."""
    now = now or timezone.now()
    due = [q for q in (_raw_due(now), _raw_of_due_tickets(now)) if q is not None]
    raw = RawInbound.objects.none()
    for query in due:
        raw = raw | query
    tickets, attachments = closed_tickets_due(now=now)
    return RetentionReport(raw_payloads=raw.count(), tickets=tickets, attachments=attachments)


def retention_purge(*, now: datetime | None = None) -> RetentionReport:
    now = now or timezone.now()
    raw = raw_payloads_purge(now=now)
    of_tickets = _raw_of_due_tickets(now)
    if of_tickets is not None:
        raw += _purge(of_tickets, BATCH_SIZE)
    tickets, attachments = closed_tickets_purge(now=now)
    report = RetentionReport(raw_payloads=raw, tickets=tickets, attachments=attachments)
    if report.anything:
        logger.info("retention purge: %s", report.as_dict())
        audit_record(
            action="retention.purge",
            summary=(
                f"Purged {raw} raw payloads, deleted {tickets} closed tickets "
                f"and {attachments} attachments"
            ),
            data=report.as_dict(),
        )
    return report
