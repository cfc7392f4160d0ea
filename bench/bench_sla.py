"""SLA tick cost against the number of open tickets, with 0 or 100 due.

The tick must stay flat in the open count (target < 50 ms with 100 due): it reads only
tickets whose sla_next_check_at has passed, through the partial index ticket_sla_check.

    BENCH_SLA_OPEN=1000,100000           open-ticket counts to measure (ascending)
    BENCH_SLA_MILLION=1                  also measure 1,000,000 open tickets
    BENCH_SLA_REPEAT=5                   ticks per measurement (median reported)

Open tickets are written with COPY; rows are tagged with a run id and deleted at the end.
"""

import io
import os
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from tickets.models import (
    Customer,
    Priority,
    SlaPolicy,
    SlaRecord,
    SlaRecordState,
    SlaTarget,
    SlaTargetKind,
    Ticket,
)
from tickets.sla.timer import sla_process_due

DUE = 100
TARGET_MS = 50.0


def _copy_tickets(*, customer_id: int, start: int, count: int, run_id: str) -> None:
    """Open tickets whose next SLA check is weeks away (not due)."""
    now = timezone.now()
    later = (now + timedelta(days=30)).isoformat()
    stamp = now.isoformat()
    buffer = io.StringIO()
    for i in range(start, start + count):
        buffer.write(
            f"{900_000_000 + i}\tbench-sla-{run_id}\topen\tnormal\temail\t{customer_id}\t"
            f"{run_id}{i:012d}\t{stamp}\t{stamp}\t{later}\t{later}\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(  # type: ignore[attr-defined]
            "COPY tickets_ticket (number, subject, status, priority, channel, customer_id, "
            "reply_token, created_at, updated_at, sla_next_check_at, sla_next_due_at) "
            "FROM STDIN",
            buffer,
        )


def _arm_due(*, run_id: str, policy: SlaPolicy, count: int) -> None:
    """Make `count` tickets due: a running first-response clock that passed its time."""
    now = timezone.now()
    past = now - timedelta(minutes=1)
    ids = list(
        Ticket.objects.filter(subject=f"bench-sla-{run_id}")
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    SlaRecord.objects.filter(ticket_id__in=ids).delete()
    SlaRecord.objects.bulk_create(
        SlaRecord(
            ticket_id=pk,
            policy=policy,
            kind=SlaTargetKind.FIRST_RESPONSE,
            priority=Priority.NORMAL,
            target_minutes=60,
            state=SlaRecordState.RUNNING,
            started_at=now - timedelta(hours=1),
            resumed_at=now - timedelta(hours=1),
            due_at=past,
            warned_at=past,
        )
        for pk in ids
    )
    Ticket.objects.filter(pk__in=ids).update(sla_next_check_at=past)


def _median_tick(*, run_id: str, policy: SlaPolicy, due: int, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        if due:
            _arm_due(run_id=run_id, policy=policy, count=due)
        started = time.perf_counter()
        result = sla_process_due()
        timings.append((time.perf_counter() - started) * 1000)
        assert result.breaches == due, result
    return statistics.median(timings)


def _cleanup(run_id: str, policy: SlaPolicy, customer: Customer) -> None:
    with connection.cursor() as cursor:
        ids = "SELECT id FROM tickets_ticket WHERE subject = %s"
        params = [f"bench-sla-{run_id}"]
        cursor.execute(f"DELETE FROM tickets_ticketevent WHERE ticket_id IN ({ids})", params)
        cursor.execute(f"DELETE FROM tickets_slarecord WHERE ticket_id IN ({ids})", params)
        cursor.execute("DELETE FROM tickets_ticket WHERE subject = %s", params)
    policy.delete()
    customer.delete()


def run() -> list[dict[str, Any]]:
    if connection.vendor != "postgresql":
        return [{"benchmark": "sla tick", "metric": "skipped", "value": "needs PostgreSQL"}]
    counts = [int(c) for c in os.environ.get("BENCH_SLA_OPEN", "1000,100000").split(",")]
    if os.environ.get("BENCH_SLA_MILLION"):
        counts.append(1_000_000)
    repeat = int(os.environ.get("BENCH_SLA_REPEAT", "5"))
    run_id = uuid.uuid4().hex[:8]
    customer = Customer.objects.create(name=f"bench-sla-{run_id}")
    # 24/7, no escalation: measures the tick itself (claim, events, next check).
    policy = SlaPolicy.objects.create(
        name=f"bench-sla-{run_id}", order=0, notify_assignee=False, active=False
    )
    SlaTarget.objects.create(policy=policy, priority=Priority.NORMAL, first_response_minutes=60)
    rows: list[dict[str, Any]] = []
    seeded = 0
    try:
        for count in sorted(counts):
            _copy_tickets(
                customer_id=customer.pk, start=seeded, count=count - seeded, run_id=run_id
            )
            seeded = count
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE tickets_ticket")
            for due in (0, DUE):
                ms = _median_tick(run_id=run_id, policy=policy, due=due, repeat=repeat)
                rows.append(
                    {
                        "benchmark": f"sla tick, {count:,} open",
                        "metric": f"ms per tick, {due} due",
                        "value": ms,
                        "target": f"< {TARGET_MS:.0f}" if due else "",
                    }
                )
    finally:
        _cleanup(run_id, policy, customer)
    return rows
