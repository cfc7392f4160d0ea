"""The SLA timer: fire warnings and breaches whose time has come, exactly once.

The tick reads only tickets whose sla_next_check_at has passed, through the partial index
ticket_sla_check, so its cost follows the number of due tickets, not open ones. Each
batch is claimed with SELECT ... FOR UPDATE SKIP LOCKED: two beats or overlapping ticks
take disjoint tickets, and a ticket handled by one is no longer due for the other (its
sla_next_check_at moved on before the lock was released). SQLite has no row locks, but
its IMMEDIATE transactions serialize the ticks and the re-check of sla_next_check_at in
the same query keeps the second one from firing again.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tickets.domain_events import Actor, SlaBreached, SlaNoticeDue, SlaWarning, publish
from tickets.events import agent_queue_group, team_queue_group, ticket_group
from tickets.models import (
    EventKind,
    SlaPolicy,
    SlaRecord,
    SlaRecordState,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.sla.calendar import Calendar, next_business_instant
from tickets.sla.services import calendar_build, next_check_at, sla_recompute

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
RUNNING_STATUSES = frozenset({Status.NEW, Status.OPEN})
# A tick stops after this many batches; the next tick continues. Keeps one tick bounded
# even after a long outage.
MAX_BATCHES = 50


@dataclass(frozen=True)
class TickResult:
    tickets: int
    warnings: int
    breaches: int
    notifications: int


def sla_process_due(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> TickResult:
    now = now or timezone.now()
    tickets = warnings = breaches = 0
    for _ in range(MAX_BATCHES):
        handled, warned, breached = _process_batch(now=now, batch_size=batch_size)
        tickets, warnings, breaches = tickets + handled, warnings + warned, breaches + breached
        if handled < batch_size:
            break
    notifications = _notifications_due(now=now)
    return TickResult(tickets, warnings, breaches, notifications)


def _event(
    ticket_id: int, kind: str, record: SlaRecord, now: datetime, **data: object
) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket_id,
        kind=EventKind.SLA,
        created_at=now,
        data={
            "event": kind,
            "target": record.kind,
            "record": record.pk,
            "due_at": record.due_at.isoformat() if record.due_at else None,
            "policy": record.policy_id,
            **data,
        },
    )


def _sla_event_fields(ticket_id: int, record: SlaRecord, now: datetime) -> dict[str, Any]:
    return {
        "actor": Actor.system(),
        "at": now,
        "ticket_id": ticket_id,
        "target": record.kind,
        "due_at": record.due_at,
    }


def _breached(ticket_id: int, record: SlaRecord, now: datetime) -> SlaBreached:
    policy: SlaPolicy | None = record.policy
    return SlaBreached(
        **_sla_event_fields(ticket_id, record, now),
        record_id=record.pk,
        raise_priority=bool(policy and policy.raise_priority),
        escalate_to_team_id=policy.escalate_to_team_id if policy else None,
    )


@transaction.atomic
def _process_batch(*, now: datetime, batch_size: int) -> tuple[int, int, int]:
    tickets = list(
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sla_next_check_at__lte=now)
        .order_by("sla_next_check_at")[:batch_size]
    )
    if not tickets:
        return 0, 0, 0
    if connection.vendor == "postgresql":
        # The batch's only outside effects are live-update hints, so it need not wait for
        # the WAL flush: if the server crashes before the flush, the events and the
        # breached_at marks vanish together and the next tick fires them again, once.
        # Breach mails are claimed in their own, synchronous commits, which flush this
        # batch's WAL first.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    # A ticket whose status changed without sla_recompute (a write outside the services)
    # is brought in line instead of fired: a paused or finished ticket never breaches.
    stale = [t for t in tickets if t.status not in RUNNING_STATUSES]
    for ticket in stale:
        sla_recompute(ticket=ticket, now=now)
    handled = len(tickets)
    tickets = [t for t in tickets if t.status in RUNNING_STATUSES]
    by_ticket: dict[int, list[SlaRecord]] = {t.pk: [] for t in tickets}
    for record in SlaRecord.objects.filter(
        ticket_id__in=list(by_ticket), state=SlaRecordState.RUNNING
    ).select_related("policy__business_hours"):
        by_ticket[record.ticket_id].append(record)
    events: list[TicketEvent] = []
    announced: list[SlaWarning | SlaBreached] = []
    fired: list[SlaRecord] = []
    calendars: dict[int | None, Calendar] = {}
    warnings = breaches = 0
    for ticket in tickets:
        for record in by_ticket[ticket.pk]:
            if record.breached_at is None and record.due_at is not None and record.due_at <= now:
                record.breached_at = now
                # Catching up after downtime: the breach says it all, no late warning.
                record.warned_at = record.warned_at or now
                record.warning_at = None
                record.notify_at = _notify_at(record, now, calendars)
                late = int((now - record.due_at).total_seconds() // 60)
                events.append(_event(ticket.pk, "breach", record, now, late_minutes=late))
                announced.append(_breached(ticket.pk, record, now))
                fired.append(record)
                breaches += 1
            elif (
                record.warned_at is None
                and record.warning_at is not None
                and record.warning_at <= now
            ):
                record.warned_at = now
                events.append(_event(ticket.pk, "warning", record, now))
                announced.append(SlaWarning(**_sla_event_fields(ticket.pk, record, now)))
                fired.append(record)
                warnings += 1
        ticket.sla_next_check_at = next_check_at(by_ticket[ticket.pk])
    _save_fired(fired, now)
    TicketEvent.objects.bulk_create(events)
    _save_next_checks(tickets)
    # After the next checks are saved: a subscriber that changes the ticket (the
    # escalation) recomputes its clocks, and that recompute must be the last word.
    for event in announced:
        publish(event)
    touched = {e.ticket_id for e in events}
    _publish_many([t for t in tickets if t.pk in touched])
    return handled, warnings, breaches


def _save_fired(fired: list[SlaRecord], now: datetime) -> None:
    """A few grouped UPDATEs instead of bulk_update's per-row CASE: the fired values are
    mostly the same instant, so this stays cheap for a batch of hundreds."""
    groups: dict[tuple[bool, datetime | None], list[int]] = {}
    for record in fired:
        key = (record.breached_at is not None, record.notify_at)
        groups.setdefault(key, []).append(record.pk)
    for (breached, notify_at), ids in groups.items():
        records = SlaRecord.objects.filter(pk__in=ids)
        if breached:
            records.update(
                breached_at=now,
                warned_at=Coalesce("warned_at", Value(now)),
                warning_at=None,
                notify_at=notify_at,
            )
        else:
            records.update(warned_at=now)


def _save_next_checks(tickets: list[Ticket]) -> None:
    if connection.vendor != "postgresql":
        Ticket.objects.bulk_update(tickets, ["sla_next_check_at"])
        return
    # One UPDATE joined to unnest()ed arrays: bulk_update's CASE with a branch per row
    # was the slowest statement of a 100-breach tick.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket AS t SET sla_next_check_at = v.at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE t.id = v.id",
            [[t.pk for t in tickets], [t.sla_next_check_at for t in tickets]],
        )


def _publish_many(tickets: list[Ticket]) -> None:
    """Live-update hints for the batch, sent by a worker after commit.

    Publishing is one channel-layer round trip per group; for a hundred breaches that
    took longer than the database work, so the tick only enqueues one task for the lot.
    """
    if not tickets:
        return
    from tickets.tasks import sla_publish_task

    ids = [ticket.pk for ticket in tickets]
    # robust: with the broker down the hints are lost (pages resync), the tick is not.
    transaction.on_commit(lambda: sla_publish_task.delay(ticket_ids=ids), robust=True)


def sla_publish(*, ticket_ids: list[int]) -> int:
    """Send "sla" change hints for these tickets in one hop to the channel layer."""
    messages: list[tuple[str, dict[str, object]]] = []
    for pk, team_id, assignee_id in Ticket.objects.filter(pk__in=ticket_ids).values_list(
        "pk", "team_id", "assignee_id"
    ):
        payload = {"kind": "sla", "ticket_id": pk}
        groups = [ticket_group(pk), team_queue_group(team_id)]
        if assignee_id:
            groups.append(agent_queue_group(assignee_id))
        messages.extend((group, payload) for group in groups)
    layer = get_channel_layer()
    if layer is None or not messages:
        return 0

    async def send_all() -> None:
        for group, payload in messages:
            await layer.group_send(group, {"type": "helpdesk.event", "payload": payload})

    try:
        async_to_sync(send_all)()
    except Exception:  # hints only: a page that missed one resyncs from the database
        logger.warning("could not publish %s SLA updates", len(messages), exc_info=True)
        return 0
    return len(messages)


def _notify_at(
    record: SlaRecord, now: datetime, calendars: dict[int | None, Calendar]
) -> datetime | None:
    """When the breach mail may go: now, or at the next opening for business-hours
    policies, so nobody is paged at 3 a.m. for a clock that only counts office time."""
    policy = record.policy
    if policy is None or not (policy.notify_assignee or policy.notify_team):
        return None
    if policy.business_hours_id not in calendars:
        calendars[policy.business_hours_id] = calendar_build(business_hours=policy.business_hours)
    return next_business_instant(calendars[policy.business_hours_id], now)


def _notifications_due(*, now: datetime) -> int:
    """Announce breach notices whose time has come; each is claimed once by conditional
    update, and SlaNoticeDue is published in the claim's transaction: its subscribers
    (the outbox) write what they send in the same commit, so a broker down at this moment
    delays the notice (the delivery relay sends it) but never loses it."""
    records = list(
        SlaRecord.objects.filter(notify_at__lte=now, notified_at__isnull=True)
        .order_by("notify_at")
        .values_list("pk", "ticket_id", "kind", "due_at")[:BATCH_SIZE]
    )
    sent = 0
    for record_id, ticket_id, kind, due_at in records:
        with transaction.atomic():
            claimed = SlaRecord.objects.filter(pk=record_id, notified_at__isnull=True).update(
                notified_at=now
            )
            if claimed != 1:
                continue  # another tick got there first
            publish(
                SlaNoticeDue(
                    actor=Actor.system(),
                    at=now,
                    ticket_id=ticket_id,
                    record_id=record_id,
                    target=kind,
                    due_at=due_at,
                )
            )
            sent += 1
    return sent
