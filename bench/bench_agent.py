"""Agent workspace benchmark: seed tickets and messages on PostgreSQL, time the pages.

Scale with environment variables (defaults give a quick run of a few minutes):

    BENCH_AGENT_TICKETS=20000 BENCH_AGENT_MESSAGES=100000   # default
    BENCH_AGENT_TICKETS=1000000 BENCH_AGENT_MESSAGES=5000000  # the issue's target scale
    BENCH_AGENT_REQUESTS=200                                 # requests per measurement

Run alone with
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench python -m bench.bench_agent
or with every benchmark through `make bench`. The database is migrated and seeded once;
a later run at the same or a smaller scale reuses the rows, a larger one tops them up.
Server time is measured in-process through Django's test client: URL routing,
middleware, queries and template rendering, without network or browser.
"""

import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

WORDS = (  # noqa: SIM905 (one readable paragraph of words)
    "order invoice refund shipping delivery broken lamp printer password login account "
    "charge card billing subscription cancel upgrade warranty return label tracking parcel "
    "damaged missing late address change email phone update error crash app website "
    "payment declined discount coupon store pickup size color exchange manual setup wifi "
    "battery screen cable charger replacement schedule appointment technician quote"
).split()
STATUSES = ["new"] * 10 + ["open"] * 15 + ["pending"] * 10 + ["on_hold"] * 5
STATUSES += ["solved"] * 20 + ["closed"] * 40
PRIORITIES = ["low"] * 2 + ["normal"] * 5 + ["high"] * 2 + ["urgent"]
CHANNELS = ["email"] * 6 + ["web"] * 2 + ["sms", "chat"]
CHUNK = 50_000
# Every message also names one of these products: a search term that matches about one
# message in SKUS, as real searches (an order number, a product) do. The common WORDS
# each match about half the messages: the worst case, reported without a target.
SKUS = 5000


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench_agent needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")


def _progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6)
    bar = "#" * int(30 * done / max(total, 1))
    sys.stderr.write(f"\r{label:<16} [{bar:<30}] {done:>9}/{total} {rate:>9.0f}/s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _copy(table: str, columns: list[str], rows: Iterator[list[Any]], total: int) -> None:
    """Stream rows into `table` with COPY, CHUNK rows per round trip."""
    from django.db import connection

    started, done = time.monotonic(), 0
    with connection.cursor() as cursor:
        while done < total:
            buf = io.StringIO()
            n = 0
            for row in rows:
                buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
                n += 1
                if n == CHUNK:
                    break
            if n == 0:
                break
            buf.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)
            done += n
            _progress(table.split("_", 1)[1], done, total, started)


def _scalar(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def _execute(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)


def _reset_sequence(table: str) -> None:
    _scalar(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
    )


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _seed_tickets(new: int, agents: list[int], teams: list[int], rng: random.Random) -> None:
    from django.conf import settings
    from django.utils import timezone

    now = timezone.now()
    customers = max(1, new // 4)
    first_customer = _scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets_customer")
    customer_ids = range(first_customer, first_customer + customers)
    _copy(
        "tickets_customer",
        ["id", "name", "notes", "created_at", "updated_at"],
        ([c, f"Customer {c}", "", now, now] for c in customer_ids),
        customers,
    )
    _reset_sequence("tickets_customer")
    _copy(
        "tickets_contactidentity",
        ["customer_id", "kind", "value", "display_name", "verified", "created_at"],
        ([c, "email", f"customer{c}@bench.example", "", "f", now] for c in customer_ids),
        customers,
    )
    first = _scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets_ticket")
    start = settings.HELPDESK_TICKET_NUMBER_START

    def rows() -> Iterator[list[Any]]:
        for pk in range(first, first + new):
            created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            updated = min(now, created + timedelta(minutes=rng.randint(0, 7 * 24 * 60)))
            status = rng.choice(STATUSES)
            solved = updated if status in ("solved", "closed") else None
            yield [
                pk, start + pk, _sentence(rng, 3, 8), status, rng.choice(PRIORITIES),
                rng.choice(CHANNELS), first_customer + rng.randrange(customers),
                rng.choice(agents) if rng.random() < 0.6 else None,
                rng.choice(teams) if rng.random() < 0.7 else None,
                f"bench{pk:x}", created, updated, solved, solved if status == "closed" else None,
            ]  # fmt: skip

    columns = [
        "id", "number", "subject", "status", "priority", "channel", "customer_id",
        "assignee_id", "team_id", "reply_token", "created_at", "updated_at", "solved_at",
        "closed_at",
    ]  # fmt: skip
    _copy("tickets_ticket", columns, rows(), new)
    _reset_sequence("tickets_ticket")


def _seed_messages(new: int, rng: random.Random) -> None:
    from django.utils import timezone

    now = timezone.now()
    low = _scalar("SELECT MIN(id) FROM tickets_ticket")
    high = _scalar("SELECT MAX(id) FROM tickets_ticket")

    def rows() -> Iterator[list[Any]]:
        for _ in range(new):
            inbound = rng.random() < 0.55
            yield [
                rng.randint(low, high), "email", "inbound" if inbound else "outbound",
                "f" if inbound or rng.random() < 0.8 else "t", "",
                f"{_sentence(rng, 15, 60)} sku{rng.randrange(SKUS)}",
                "", "", "", "", "f", now - timedelta(minutes=rng.randint(0, 525_600)),
            ]  # fmt: skip

    columns = [
        "ticket_id", "channel", "direction", "is_internal", "subject", "body_text",
        "body_html", "rfc_message_id", "in_reply_to", '"references"', "is_automated",
        "created_at",
    ]  # fmt: skip
    _copy("tickets_message", columns, rows(), new)


def seed(*, tickets: int, messages: int) -> dict[str, Any]:
    """Top up to `tickets` tickets and `messages` messages; returns what the requests use."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from helpdesk.roles import AGENTS_GROUP
    from tickets.models import Team

    call_command("migrate", verbosity=0)
    group, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
    agents = []
    for i in range(20):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-agent-{i}")
        user.groups.add(group)
        agents.append(user.pk)
    teams = [Team.objects.get_or_create(name=f"Bench team {i}")[0].pk for i in range(5)]
    Team.objects.get(pk=teams[0]).members.add(agents[0])
    rng = random.Random(42)
    new_tickets = tickets - _scalar("SELECT COUNT(*) FROM tickets_ticket")
    if new_tickets > 0:
        _seed_tickets(new_tickets, agents, teams, rng)
    new_messages = messages - _scalar("SELECT COUNT(*) FROM tickets_message")
    if new_messages > 0:
        # Maintaining the GIN index row by row is most of a big load's cost: build it once.
        rebuild = new_messages > 200_000
        if rebuild:
            _execute("DROP INDEX IF EXISTS message_body_fts")
        _seed_messages(new_messages, rng)
        if rebuild:
            sys.stderr.write("building the full-text index on message bodies...\n")
            # The same expression as migration tickets 0003, so search keeps using it; a
            # bigger sort memory makes the GIN build several times faster.
            _execute("SET maintenance_work_mem = '512MB'")
            _execute(
                "CREATE INDEX IF NOT EXISTS message_body_fts ON tickets_message USING gin "
                "(to_tsvector('english'::regconfig, COALESCE(body_text, ''::text)))"
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket, tickets_message, tickets_customer")
        # The tickets with messages, newest first: what an agent opens.
        cursor.execute(
            "SELECT t.number FROM tickets_ticket t WHERE EXISTS "
            "(SELECT 1 FROM tickets_message m WHERE m.ticket_id = t.id) "
            "ORDER BY t.updated_at DESC LIMIT 200"
        )
        numbers = [row[0] for row in cursor.fetchall()]
    return {"agent": agents[0], "team": teams[0], "numbers": numbers}


def _measure(fetch: Callable[[int], Any], requests: int) -> tuple[float, float]:
    fetch(0)  # warm caches and connections
    times = []
    for i in range(requests):
        started = time.perf_counter()
        response = fetch(i)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"benchmark request failed with {response.status_code}")
    times.sort()
    return statistics.median(times), times[max(0, round(len(times) * 0.95) - 1)]


def run() -> list[dict[str, Any]]:
    _setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    tickets = int(os.environ.get("BENCH_AGENT_TICKETS", "20000"))
    messages = int(os.environ.get("BENCH_AGENT_MESSAGES", "100000"))
    requests = int(os.environ.get("BENCH_AGENT_REQUESTS", "200"))
    info = seed(tickets=tickets, messages=messages)
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:  # production settings: the manifest storage needs collected files
        call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()
    client.force_login(get_user_model().objects.get(pk=info["agent"]))
    numbers = info["numbers"] or [0]
    filtered = f"/agent/?view=open&priority=high&channel=email&team={info['team']}&sort=priority"
    cases: list[tuple[str, Callable[[int], Any], float | None]] = [
        ("queue page", lambda i: client.get("/agent/?view=open", secure=True), 50),
        ("filtered queue", lambda i: client.get(filtered, secure=True), 50),
        (
            "search rare term",
            lambda i: client.get(f"/agent/?view=all&q=sku{i * 7 % SKUS}", secure=True),
            200,
        ),
        (
            "search common word",
            lambda i: client.get(f"/agent/?view=all&q={WORDS[i % len(WORDS)]}", secure=True),
            None,
        ),
        (
            "ticket page",
            lambda i: client.get(f"/agent/tickets/{numbers[i % len(numbers)]}/", secure=True),
            50,
        ),
    ]
    rows = []
    scale = f"{tickets} tickets, {messages} messages"
    for name, fetch, target in cases:
        p50, p95 = _measure(fetch, requests)
        rows.append(
            {"benchmark": f"agent {name} ({scale})", "metric": "p50 ms", "value": round(p50, 1),
             "target": None}
        )  # fmt: skip
        rows.append(
            {"benchmark": f"agent {name} ({scale})", "metric": "p95 ms", "value": round(p95, 1),
             "target": target}
        )  # fmt: skip
    return rows


if __name__ == "__main__":
    for result in run():
        print(result)
