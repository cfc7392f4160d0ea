"""Core ingest path: API-shaped messages through inbound_message_ingest on PostgreSQL."""

import os
import statistics
import time
import uuid
from typing import Any

from django.db import connection
from django.utils import timezone

from channels_app.inbound import Identity, InboundMessage
from channels_app.ingest import inbound_message_ingest
from tickets.models import Channel, IdentityKind


def run() -> list[dict[str, Any]]:
    count = int(os.environ.get("BENCH_INGEST_CORE_N", "2000"))
    run_id = uuid.uuid4().hex[:8]
    timings: list[float] = []
    queries = [0]

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(counted):
        _ingest_all(count, run_id, timings)
    total = time.perf_counter() - started
    timings.sort()
    return [
        {"benchmark": "ingest (api, core)", "metric": "messages/s", "value": count / total},
        {
            "benchmark": "ingest (api, core)",
            "metric": "p50 ms",
            "value": statistics.median(timings),
        },
        {
            "benchmark": "ingest (api, core)",
            "metric": "p95 ms",
            "value": timings[int(len(timings) * 0.95) - 1],
        },
        {
            "benchmark": "ingest (api, core)",
            "metric": "queries/message",
            "value": queries[0] / count,
        },
    ]


def _ingest_all(count: int, run_id: str, timings: list[float]) -> None:
    for i in range(count):
        message = InboundMessage(
            channel=Channel.API,
            external_id=f"bench-{run_id}-{i}",
            sender=Identity(IdentityKind.EMAIL, f"bench{i % 500}-{run_id}@example.com"),
            subject=f"Order {i} question",
            text="Hello,\n\nI have a question about my order. " * 5,
            html=None,
            received_at=timezone.now(),
            join_open_ticket=i % 2 == 0,
        )
        t0 = time.perf_counter()
        inbound_message_ingest(message=message)
        timings.append((time.perf_counter() - t0) * 1000)
