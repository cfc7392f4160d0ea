"""Retention of closed tickets: HELPDESK_RETENTION_CLOSED_MONTHS after a ticket closed,
it is deleted with its messages, events and attachments (files after each commit).

Batched: each chunk of tickets is its own transaction, so a purge of a million tickets
never holds one huge transaction or lock, and a purge cut off halfway keeps what it did.
It reads only due tickets, through the partial index ticket_closed_retention.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tickets.models import Attachment, Status, Ticket

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
DAYS_PER_MONTH = 30  # a month of retention is 30 days: the cutoff needs no calendar


def closed_tickets_cutoff(now: datetime) -> datetime | None:
    months = settings.HELPDESK_RETENTION_CLOSED_MONTHS
    return None if months is None else now - timedelta(days=months * DAYS_PER_MONTH)


def _due(cutoff: datetime) -> QuerySet[Ticket]:
    return Ticket.objects.filter(status=Status.CLOSED, closed_at__lt=cutoff)


def closed_tickets_due(*, now: datetime | None = None) -> tuple[int, int]:
    """(tickets, attachments) the purge would delete now; (0, 0) when it is off."""
    cutoff = closed_tickets_cutoff(now or timezone.now())
    if cutoff is None:
        return 0, 0
    due = _due(cutoff)
    return due.count(), Attachment.objects.filter(message__ticket__in=due).count()


def _files_delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("retention: could not delete the file %s", name)


def closed_tickets_purge(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> tuple[int, int]:
    """Delete the closed tickets past retention, oldest first, batch by batch; returns
    (tickets, attachments) deleted. Off (nothing deleted) while the setting is None."""
    cutoff = closed_tickets_cutoff(now or timezone.now())
    if cutoff is None:
        return 0, 0
    tickets = attachments = 0
    while True:
        with transaction.atomic():
            ids = list(
                _due(cutoff)
                .order_by("closed_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            files = [
                name
                for name in Attachment.objects.filter(message__ticket_id__in=ids).values_list(
                    "file", flat=True
                )
                if name
            ]
            # Tickets merged into or followed up by these keep their rows (SET_NULL).
            Ticket.objects.filter(pk__in=ids).delete()
            transaction.on_commit(partial(_files_delete, files))
        tickets += len(ids)
        attachments += len(files)
    if tickets:
        logger.info("retention: deleted %d closed tickets before %s", tickets, cutoff.isoformat())
    return tickets, attachments
