"""The time-rule sweep against the number of solved tickets, with 0 or 100 due (target
< 100 ms with 100 due, flat in the ticket count): "close solved tickets after 4 days"
reads only solved tickets solved before the bound, through the partial index
ticket_recently_solved.

    BENCH_SWEEP_TICKETS=10000,100000      solved-ticket counts to measure (ascending)
    BENCH_SWEEP_MILLION=1                 also measure 1,000,000
    BENCH_SWEEP_REPEAT=3                  sweeps per measurement (median reported)

Tickets are written with COPY; rows are tagged with a run id and deleted at the end.
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

from tickets.automation.models import TimeRule
from tickets.automation.time_rules import time_rules_sweep
from tickets.models import Customer, Ticket

DUE = 100
TARGET_MS = 100.0


def _copy(*, customer_id: int, start: int, count: int, run_id: str) -> None:
    now = timezone.now()
    stamp = now.isoformat()
    solved = (now - timedelta(hours=1)).isoformat()  # not due for four days
    buffer = io.StringIO()
    for i in range(start, start + count):
        buffer.write(
            f"{800_000_000 + i}\tbench-sweep-{run_id}\tsolved\tnormal\temail\t{customer_id}\t"
            f"s{run_id}{i:012d}\t{stamp}\t{stamp}\t{solved}\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(  # type: ignore[attr-defined]
            "COPY tickets_ticket (number, subject, status, priority, channel, customer_id, "
            "reply_token, created_at, updated_at, solved_at) FROM STDIN",
            buffer,
        )


def _arm(run_id: str, n: int) -> None:
    ids = list(
        Ticket.objects.filter(subject=f"bench-sweep-{run_id}")
        .order_by("pk")
        .values_list("pk", flat=True)[:DUE]
    )
    # A new solve time each round: a new qualifying period, so the rule fires again.
    Ticket.objects.filter(pk__in=ids).update(
        status="solved", solved_at=timezone.now() - timedelta(days=5, seconds=n), closed_at=None
    )


def _median(rule: TimeRule, run_id: str, due: int, repeat: int) -> float:
    timings = []
    for n in range(repeat):
        if due:
            _arm(run_id, n)
        started = time.perf_counter()
        result = time_rules_sweep(rules=[rule])
        timings.append((time.perf_counter() - started) * 1000)
        assert result.fired == due, result
    return statistics.median(timings)


def run() -> list[dict[str, Any]]:
    if connection.vendor != "postgresql":
        return [{"benchmark": "time-rule sweep", "metric": "skipped", "value": "needs PostgreSQL"}]
    counts = [int(c) for c in os.environ.get("BENCH_SWEEP_TICKETS", "10000,100000").split(",")]
    if os.environ.get("BENCH_SWEEP_MILLION"):
        counts.append(1_000_000)
    repeat = int(os.environ.get("BENCH_SWEEP_REPEAT", "3"))
    run_id = uuid.uuid4().hex[:8]
    customer = Customer.objects.create(name=f"bench-sweep-{run_id}")
    rule = TimeRule.objects.create(
        title=f"bench-sweep-{run_id}",
        active=False,  # passed to the sweep directly; the built-in rules stay out of it
        conditions={
            "all": [
                {"field": "status", "operator": "is", "value": "solved"},
                {"field": "hours_since_solved", "operator": "greater_than", "value": 96,
                 "calendar": "calendar"},
            ],
            "any": [],
        },
        actions=[{"field": "status", "value": "closed"}],
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    seeded = 0
    try:
        for count in sorted(counts):
            _copy(customer_id=customer.pk, start=seeded, count=count - seeded, run_id=run_id)
            seeded = count
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE tickets_ticket")
            for due in (0, DUE):
                rows.append(
                    {
                        "benchmark": f"time-rule sweep, {count:,} solved",
                        "metric": f"ms per sweep, {due} due",
                        "value": _median(rule, run_id, due, repeat),
                        "target": f"< {TARGET_MS:.0f} ms" if due else "",
                    }
                )
    finally:
        rule.delete()  # and its firings, which point at the tickets
        with connection.cursor() as cursor:
            ids = "SELECT id FROM tickets_ticket WHERE subject = %s"
            params = [f"bench-sweep-{run_id}"]
            cursor.execute(f"DELETE FROM tickets_ticketevent WHERE ticket_id IN ({ids})", params)
            cursor.execute(f"DELETE FROM tickets_slarecord WHERE ticket_id IN ({ids})", params)
            cursor.execute("DELETE FROM tickets_ticket WHERE subject = %s", params)
        customer.delete()
    return rows
