"""REST API benchmark: the ticket list's first page and a filtered page, server time per
request, on the agent benchmark's seeded database (bench.bench_agent.seed).

    BENCH_API_TICKETS=20000 BENCH_API_MESSAGES=100000   # default
    BENCH_API_TICKETS=1000000 BENCH_API_MESSAGES=5000000  # the issue's target scale
    BENCH_API_REQUESTS=200                               # requests per measurement

Run alone with
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench python -m bench.bench_api
Requests go through Django's test client with a bearer token: authentication, the rate
limit (Redis), scopes, the keyset query and JSON rendering, without network.
"""

import os
from collections.abc import Callable
from typing import Any

from bench.bench_agent import _measure, _setup, seed

TARGET_MS = 30  # the same as the agent queue's


def run() -> list[dict[str, Any]]:
    _setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tickets.integrations.tokens import api_token_create

    tickets = int(os.environ.get("BENCH_API_TICKETS", "20000"))
    messages = int(os.environ.get("BENCH_API_MESSAGES", "100000"))
    requests = int(os.environ.get("BENCH_API_REQUESTS", "200"))
    info = seed(tickets=tickets, messages=messages)
    # The limit is counted (that cost is measured) but not hit by the run's own requests.
    settings.HELPDESK_API_RATE_LIMIT = 1_000_000
    owner = get_user_model().objects.get(pk=info["agent"])
    secret = api_token_create(owner=owner, name="bench", scopes=["tickets:read"]).secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    filtered = f"/api/v1/tickets/?status=open&priority=high&channel=email&team={info['team']}"
    first = client.get("/api/v1/tickets/", secure=True).json()
    second = f"/api/v1/tickets/?cursor={first['next_cursor']}"
    cases: list[tuple[str, Callable[[int], Any]]] = [
        ("ticket list first page", lambda i: client.get("/api/v1/tickets/", secure=True)),
        ("ticket list filtered page", lambda i: client.get(filtered, secure=True)),
        ("ticket list second page (cursor)", lambda i: client.get(second, secure=True)),
    ]
    rows = []
    scale = f"{tickets} tickets, {messages} messages"
    for name, fetch in cases:
        p50, p95 = _measure(fetch, requests)
        rows.append(
            {"benchmark": f"api {name} ({scale})", "metric": "p50 ms", "value": round(p50, 1),
             "target": None}
        )  # fmt: skip
        rows.append(
            {"benchmark": f"api {name} ({scale})", "metric": "p95 ms", "value": round(p95, 1),
             "target": TARGET_MS}
        )  # fmt: skip
    return rows


if __name__ == "__main__":
    for result in run():
        print(result)
