"""Server CPU per request: the pages and API reads of the load test, one at a time.

p95 under concurrent load on a small host is made of the CPU each request costs, and wall
time on a shared machine is noise. This benchmark measures what does not depend on the
machine's load: the process CPU time (`time.process_time()`, this process only: URL
routing, middleware, views, queries' Python side, templates, serializers; not
PostgreSQL's own work) and the number of queries, averaged over many requests through
Django's test client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench python -m bench cpu
    BENCH_CPU_REQUESTS=50            # requests per page (default)
    BENCH_CPU_PROFILE=10             # also print cProfile's top 10 functions per page

It seeds through bench_agent's seed (BENCH_CPU_TICKETS tickets, default 2,000, and
BENCH_CPU_MESSAGES messages, default 10,000; a database seeded larger is reused as it
is). Run it with the production settings (DEBUG=false and a SECRET_KEY) for the figures
a server sees: with DEBUG on, Django records every query and the templates are checked
for changes.
"""

import cProfile
import io
import os
import pstats
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()


def _measure(fetch: Callable[[int], Any], requests: int, profile: int) -> tuple[float, float]:
    """Median CPU ms and mean queries per request over `requests` requests after a warm-up.
    The median: a request that another process preempted mid-way (its caches cold when it
    resumes) counts once, not by how long it took."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):  # templates compiled, caches and connection warm
        fetch(-1 - i)
    queries = 0
    cpu: list[float] = []
    for i in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            response = fetch(i)
            cpu.append(time.process_time() - started)
        queries += len(captured.captured_queries)
        if response.status_code not in (200, 302):
            raise RuntimeError(f"benchmark request failed with {response.status_code}")
    if profile:
        # CPU time, as measured above: waiting for PostgreSQL is not what a busy host queues on.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for i in range(requests):
            fetch(requests + i)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(profile)
        print(out.getvalue())
    return statistics.median(cpu) * 1000, queries / requests


def _web_form_post(client: Any, i: int, category: int | None) -> Any:
    page = client.get("/support/new/", secure=True)
    submission = page.context["form"].initial["submission_id"] if page.context else uuid.uuid4().hex
    return client.post(
        "/support/new/",
        {
            "name": "Bench Customer",
            "email": f"form-{secrets.token_hex(6)}@bench.example",
            "phone": "",
            "category": category or "",
            "subject": f"Web form {i}",
            "description": "The parcel arrived damaged; the lamp inside is broken.",
            "submission_id": submission,
            "website": "",
        },
        secure=True,
    )


def cases() -> list[tuple[str, Callable[[int], Any]]]:
    """Seed (or reuse) the data; the pages as (name, fetch(i) -> response)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db.models import Exists, OuterRef
    from django.test import Client

    from bench.bench_agent import seed
    from tickets.integrations.models import ApiScope
    from tickets.integrations.tokens import api_token_create
    from tickets.models import Message, Ticket

    tickets = int(os.environ.get("BENCH_CPU_TICKETS", "2000"))
    messages = int(os.environ.get("BENCH_CPU_MESSAGES", "10000"))
    info = seed(tickets=tickets, messages=messages)
    if not settings.DEBUG:  # production settings: the manifest storage needs collected files
        call_command("collectstatic", "--noinput", verbosity=0)
    # The form's per-address and per-IP limits would stop a run after a few posts.
    settings.HELPDESK_WEB_RATE_PER_IP = settings.HELPDESK_WEB_RATE_PER_EMAIL = 1_000_000
    agent = get_user_model().objects.get(pk=info["agent"])
    # The seeded tickets with messages, not the web form's new ones: the same pages on
    # every run.
    numbers = list(
        Ticket.objects.filter(
            Exists(Message.objects.filter(ticket=OuterRef("pk"))), pk__lte=tickets
        )
        .order_by("-updated_at", "-pk")
        .values_list("number", flat=True)[:200]
    ) or [0]
    session = Client()
    session.force_login(agent)
    bearer = api_token_create(owner=agent, name="bench cpu", scopes=[ApiScope.TICKETS_READ])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {bearer.secret}")
    customer = Client()

    def number(i: int) -> int:
        return numbers[i % len(numbers)]

    return [
        ("agent queue page", lambda i: session.get("/agent/?view=open", secure=True)),
        ("agent ticket page", lambda i: session.get(f"/agent/tickets/{number(i)}/", secure=True)),
        ("API ticket list (token)", lambda i: api.get("/api/v1/tickets/", secure=True)),
        (
            "API ticket read (token)",
            lambda i: api.get(f"/api/v1/tickets/{number(i)}/", secure=True),
        ),
        ("web form GET", lambda i: customer.get("/support/new/", secure=True)),
        ("web form GET + POST", lambda i: _web_form_post(customer, i, None)),
    ]


def run() -> list[dict[str, Any]]:
    _setup()
    requests = int(os.environ.get("BENCH_CPU_REQUESTS", "50"))
    profile = int(os.environ.get("BENCH_CPU_PROFILE", "0"))
    rows = []
    for name, fetch in cases():
        cpu_ms, queries = _measure(fetch, requests, profile)
        rows.append(
            {"benchmark": f"cpu {name}", "metric": "CPU ms/request", "value": round(cpu_ms, 2)}
        )
        rows.append(
            {"benchmark": f"cpu {name}", "metric": "queries/request", "value": round(queries, 1)}
        )
    return rows


if __name__ == "__main__":
    for result in run():
        print(result)
