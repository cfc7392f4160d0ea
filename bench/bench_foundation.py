"""Foundation benchmarks: ingest throughput and the ticket queue read at scale.

Knobs: BENCH_FOUNDATION_TICKETS (default 5000), BENCH_FOUNDATION_INGEST (default 300).
Everything is written inside one transaction that is rolled back, so the run leaves the
database as it found it. Assumes Django is set up and the database migrated.
"""

import os
import statistics
import time
from typing import Any


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return round(statistics.median(ordered) * 1000, 2), round(p95 * 1000, 2)


def run() -> list[dict[str, Any]]:
    from django.db import connection, transaction
    from django.utils import timezone

    from channels_app.inbound import Identity, InboundMessage
    from channels_app.ingest import inbound_message_ingest
    from tickets.models import Channel, Customer, Direction, IdentityKind, Message, Status, Ticket
    from tickets.selectors import TicketFilters, ticket_list

    tickets = int(os.environ.get("BENCH_FOUNDATION_TICKETS", "5000"))
    ingests = int(os.environ.get("BENCH_FOUNDATION_INGEST", "300"))
    rows: list[dict[str, Any]] = []
    with transaction.atomic():
        # Seed the queue in bulk: the read is what is measured here, not the seeding.
        customers = Customer.objects.bulk_create(
            Customer(name=f"Bench customer {i}") for i in range(max(1, tickets // 5))
        )
        statuses = [Status.NEW, Status.OPEN, Status.PENDING, Status.SOLVED]
        now = timezone.now()
        seeded = Ticket.objects.bulk_create(
            Ticket(
                subject=f"Bench ticket {i}",
                channel=Channel.EMAIL,
                customer=customers[i % len(customers)],
                status=statuses[i % len(statuses)],
                updated_at=now - timezone.timedelta(seconds=i // 3),  # many ties on purpose
                reply_token=f"bench{i:012d}",
            )
            for i in range(tickets)
        )
        Message.objects.bulk_create(
            Message(
                ticket=t,
                channel=Channel.EMAIL,
                direction=Direction.INBOUND,
                body_text="Where is it?",
            )
            for t in seeded
        )
        with connection.cursor() as cursor:
            # Fresh statistics, as autovacuum would have after a real import.
            cursor.execute("ANALYZE tickets_ticket, tickets_message, tickets_customer")

        started = time.perf_counter()
        for i in range(ingests):
            inbound_message_ingest(
                message=InboundMessage(
                    channel=Channel.EMAIL,
                    external_id=f"<bench-{i}@bench.example>",
                    sender=Identity(kind=IdentityKind.EMAIL, value=f"bench{i % 50}@bench.example"),
                    subject="Bench",
                    text="Hello from the benchmark",
                    html=None,
                    received_at=timezone.now(),
                )
            )
        elapsed = time.perf_counter() - started
        rows.append(
            {
                "benchmark": "ingest",
                "metric": "messages/s",
                "value": round(ingests / elapsed, 1),
                "target": ">= 50",
            }
        )

        first_page, deep_page, filtered = [], [], []
        cursor = None
        for _ in range(30):
            t0 = time.perf_counter()
            page = ticket_list(limit=50)
            first_page.append(time.perf_counter() - t0)
            cursor = page.next_cursor
        for _ in range(30):
            t0 = time.perf_counter()
            page = ticket_list(cursor=cursor, limit=50)
            deep_page.append(time.perf_counter() - t0)
            cursor = page.next_cursor or cursor
        for _ in range(30):
            t0 = time.perf_counter()
            ticket_list(filters=TicketFilters(status=[Status.OPEN]), limit=50)
            filtered.append(time.perf_counter() - t0)
        # Counted with an execute wrapper: it sees every query whatever debug-cursor state
        # earlier benchmarks in this process left behind.
        executed: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            ticket_list(limit=50)
        for name, samples in (
            ("ticket_list first page", first_page),
            ("ticket_list next pages", deep_page),
            ("ticket_list status=open", filtered),
        ):
            p50, p95 = _ms(samples)
            rows.append(
                {
                    "benchmark": f"{name} ({tickets} tickets)",
                    "metric": "p50 ms",
                    "value": p50,
                    "target": "<= 50",
                }
            )
            rows.append(
                {
                    "benchmark": f"{name} ({tickets} tickets)",
                    "metric": "p95 ms",
                    "value": p95,
                    "target": "<= 100",
                }
            )
        rows.append(
            {
                "benchmark": "ticket_list",
                "metric": "queries per page",
                "value": len(executed),
                "target": "2",
            }
        )
        transaction.set_rollback(True)
    return rows
