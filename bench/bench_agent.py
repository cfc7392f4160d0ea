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

import os
import re
import statistics
import sys
import time
from collections.abc import Callable
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
CHUNK = 100_000  # rows per INSERT ... SELECT: one progress bar step
PARAGRAPHS = 20_000  # distinct message bodies before the product code
TAGS = (  # noqa: SIM905
    "vip billing bug feature-request refund shipping returns warranty outage login mobile "
    "invoice complaint urgent-followup b2b wholesale gdpr security feedback onboarding"
).split()
FIRST_NAMES = (  # noqa: SIM905
    "Anna Ben Chloe David Emma Felix Grace Henry Ida Jonas Klara Leon Mia Noah Olivia Paul "
    "Quinn Rosa Sam Tara Uma Victor Wendy Xavier Yara Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Jones Müller Schmidt Garcia Rossi Dubois Novak Kowalski Silva Tanaka Kim Nguyen "
    "Andersen Berg Costa Fischer Horvat Ivanova Larsen Moreau Nilsson Ortiz Popescu"
).split()
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


def _execute(sql: str, params: dict[str, Any] | list[Any] | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _scalar(sql: str, params: dict[str, Any] | list[Any] | None = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _chunked(label: str, sql: str, first: int, total: int, params: dict[str, Any]) -> None:
    """Run `sql` for id ranges [lo, hi] of CHUNK rows from `first`, with a progress bar."""
    started = time.monotonic()
    for lo in range(first, first + total, CHUNK):
        hi = min(lo + CHUNK, first + total) - 1
        _execute(sql, {**params, "lo": lo, "hi": hi})
        _progress(label, hi - first + 1, total, started)


# --- secondary indexes around a bulk load ----------------------------------------------
# Maintaining every index row by row is most of a big load's cost. Before one, the full
# (not partial) indexes that back no constraint are dropped and their exact definitions
# (as the migrations created them, read back with pg_get_indexdef) saved in this table;
# after it they are rebuilt from there. An interrupted seed rebuilds them on its next
# start. tests/bench/test_bench_seed.py checks that every definition comes back as it was.
SAVED_INDEXES = "bench_dropped_indexes"
BULK_TABLES = (
    "tickets_ticket",
    "tickets_message",
    "tickets_ticketevent",
    "tickets_slarecord",
    "tickets_ticket_tags",
    "tickets_ticketread",
)


def _drop_indexes(tables: tuple[str, ...]) -> None:
    from django.db import connection, transaction

    _execute(
        f"CREATE TABLE IF NOT EXISTS {SAVED_INDEXES} "
        "(name text PRIMARY KEY, definition text NOT NULL)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary "
            # Partial indexes stay: they hold few rows, and an IN-list predicate would not
            # come back from pg_get_indexdef in the migration's exact form.
            "AND x.indpred IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            [list(tables)],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(
                f"INSERT INTO {SAVED_INDEXES} VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [name, definition],
            )
            cursor.execute(f'DROP INDEX "{name}"')


def _restore_indexes() -> None:
    from django.db import connection

    if _scalar("SELECT to_regclass(%s)", [SAVED_INDEXES]) is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, definition FROM {SAVED_INDEXES} ORDER BY name")
        saved = cursor.fetchall()
        # Bigger sort memory makes the builds (the GIN ones most) several times faster.
        cursor.execute("SET maintenance_work_mem = '1GB'")
        started = time.monotonic()
        for done, (name, definition) in enumerate(saved, 1):
            sys.stderr.write(f"\rbuilding index {done}/{len(saved)} {name:<40}")
            sys.stderr.flush()
            cursor.execute(re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX IF NOT EXISTS ",
                                  definition))  # fmt: skip
            cursor.execute(f"DELETE FROM {SAVED_INDEXES} WHERE name = %s", [name])
        cursor.execute(f"DROP TABLE {SAVED_INDEXES}")
        cursor.execute("RESET maintenance_work_mem")
    if saved:
        sys.stderr.write(f"\n{len(saved)} indexes rebuilt in {time.monotonic() - started:.0f} s\n")


# --- the rows, generated by PostgreSQL itself ------------------------------------------
# INSERT ... SELECT FROM generate_series: no row crosses the network, and random() after
# setseed() makes a run repeatable. Active tickets are recent (the last two weeks) with
# a running (new, open) or paused (pending, on hold) SLA clock; solved and closed ones
# spread over a year.

_TICKETS_SQL = """
INSERT INTO tickets_ticket (id, number, subject, status, priority, channel, customer_id,
    assignee_id, team_id, reply_token, created_at, updated_at, solved_at, closed_at,
    sla_policy_id, first_response_due_at, sla_next_due_at, sla_paused_at)
SELECT g, %(number_start)s + g,
    array_to_string(ARRAY(SELECT (%(words)s::text[])[1 + floor(random() * %(nwords)s)::int]
                          FROM generate_series(1, 3 + g %% 6)), ' '),
    status, priority, channel, customer_id, assignee_id, team_id, 'bench' || to_hex(g),
    created_at, updated_at,
    CASE WHEN status IN ('solved', 'closed') THEN updated_at END,
    CASE WHEN status = 'closed' THEN updated_at END,
    CASE WHEN active THEN %(policy)s::bigint END,
    CASE WHEN running THEN due END,
    CASE WHEN running THEN due END,
    CASE WHEN active AND NOT running THEN updated_at END
FROM (
    SELECT *, LEAST(%(now)s, created_at + r_updated * interval '7 days') AS updated_at
    FROM (
        SELECT *, status IN ('new', 'open', 'pending', 'on_hold') AS active,
            status IN ('new', 'open') AS running,
            %(now)s - r_age * CASE WHEN status IN ('new', 'open', 'pending', 'on_hold')
                THEN interval '14 days' ELSE interval '365 days' END AS created_at,
            %(now)s + (r_due * 48 - 8) * interval '1 hour' AS due
        FROM (
            SELECT g,
                (%(statuses)s::text[])[1 + floor(random() * %(nstatuses)s)::int] AS status,
                (%(priorities)s::text[])[1 + floor(random() * %(npriorities)s)::int] AS priority,
                (%(channels)s::text[])[1 + floor(random() * %(nchannels)s)::int] AS channel,
                %(first_customer)s + floor(random() * %(customers)s)::bigint AS customer_id,
                CASE WHEN random() < 0.6
                    THEN (%(agents)s::bigint[])[1 + floor(random() * %(nagents)s)::int] END
                    AS assignee_id,
                CASE WHEN random() < 0.7
                    THEN (%(teams)s::bigint[])[1 + floor(random() * %(nteams)s)::int] END
                    AS team_id,
                random() AS r_age, random() AS r_updated, random() AS r_due
            FROM generate_series(%(lo)s, %(hi)s) g
        ) a
    ) b
) c
"""

# One clock per active ticket (first response; its target by priority): running with a
# due time (warned at 80 %%, breached once due) or paused with some time used.
_SLA_SQL = """
INSERT INTO tickets_slarecord (ticket_id, policy_id, kind, priority, target_minutes, state,
    started_at, elapsed_seconds, resumed_at, due_at, warning_at, warned_at, breached_at,
    created_at)
SELECT id, sla_policy_id, 'first_response', priority, minutes,
    CASE WHEN running THEN 'running' ELSE 'paused' END, created_at,
    CASE WHEN running THEN 0 ELSE random() * minutes * 30 END,
    CASE WHEN running THEN created_at END,
    due, warning,
    CASE WHEN warning <= %(now)s THEN warning END,
    CASE WHEN due <= %(now)s THEN due END,
    created_at
FROM (
    SELECT t.*, m.minutes, t.sla_next_due_at AS due, t.sla_next_due_at IS NOT NULL AS running,
        t.sla_next_due_at - m.minutes * 0.2 * interval '1 minute' AS warning
    FROM tickets_ticket t
    JOIN (VALUES ('urgent', 60), ('high', 240), ('normal', 480), ('low', 1440))
        AS m (priority, minutes) ON m.priority = t.priority
    WHERE t.id BETWEEN %(lo)s AND %(hi)s AND t.sla_policy_id IS NOT NULL
) s
"""

_EVENTS_SQL = """
INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, data, created_at)
SELECT id, NULL, 'created', jsonb_build_object('channel', channel), created_at
FROM tickets_ticket WHERE id BETWEEN %(lo)s AND %(hi)s
"""

# About a third of the tickets carry one or two tags.
_TAGS_SQL = """
INSERT INTO tickets_ticket_tags (ticket_id, tag_id)
SELECT g, (%(tags)s::bigint[])[1 + floor(random() * %(ntags)s)::int]
FROM generate_series(%(lo)s, %(hi)s) g, generate_series(1, 2) k
WHERE random() < 0.2
ON CONFLICT DO NOTHING
"""

# The benchmark's agent has opened some tickets: rows changed since then show unread.
_READS_SQL = """
INSERT INTO tickets_ticketread (user_id, ticket_id, seen_at)
SELECT %(agent)s, id, updated_at + (random() - 0.3) * interval '1 day'
FROM tickets_ticket WHERE id BETWEEN %(lo)s AND %(hi)s AND random() < 0.05
ON CONFLICT DO NOTHING
"""

# Bodies come from a pool of generated paragraphs (15 to 60 words) plus one product code:
# drawing every word of 5 million bodies one by one would be most of the seed's time.
_POOL_SQL = """
CREATE TEMPORARY TABLE IF NOT EXISTS bench_paragraph AS
SELECT i, array_to_string(ARRAY(SELECT (%(words)s::text[])[1 + floor(random() * %(nwords)s)::int]
                                FROM generate_series(1, 15 + i %% 46)), ' ') AS text
FROM generate_series(0, %(paragraphs)s - 1) i
"""

# Messages land on random tickets, inside each ticket's lifetime; inbound ones are the
# customer's (their identity), outbound ones the assignee's replies or internal notes.
_MESSAGES_SQL = """
INSERT INTO tickets_message (ticket_id, channel, direction, is_internal, author_user_id,
    author_identity_id, subject, body_text, body_html, rfc_message_id, in_reply_to,
    "references", is_automated, created_at)
SELECT t.id, t.channel, CASE WHEN s.inbound THEN 'inbound' ELSE 'outbound' END,
    NOT s.inbound AND s.r_note < 0.2,
    CASE WHEN NOT s.inbound THEN COALESCE(t.assignee_id, %(agent)s) END,
    CASE WHEN s.inbound THEN ci.id END,
    '', p.text || ' sku' || s.sku, '', '', '', '', false,
    t.created_at + s.r_at * (t.updated_at - t.created_at)
FROM (
    SELECT %(low)s + floor(random() * %(span)s)::bigint AS ticket_id, random() < 0.55 AS inbound,
        random() AS r_note, floor(random() * %(paragraphs)s)::int AS paragraph,
        floor(random() * %(skus)s)::int AS sku, random() AS r_at
    FROM generate_series(%(lo)s, %(hi)s)
) s
JOIN tickets_ticket t ON t.id = s.ticket_id
JOIN bench_paragraph p ON p.i = s.paragraph
LEFT JOIN tickets_contactidentity ci ON ci.customer_id = t.customer_id AND ci.kind = 'email'
"""


def _bench_policy() -> int:
    """A business-hours SLA policy (weekdays 08:00-18:00) like most desks run."""
    from datetime import time as clock

    from tickets.models import BusinessHours, BusinessInterval, SlaPolicy, SlaTarget

    hours, created = BusinessHours.objects.get_or_create(
        name="Bench office hours", defaults={"timezone": "Europe/Berlin"}
    )
    if created:
        BusinessInterval.objects.bulk_create(
            BusinessInterval(calendar=hours, weekday=d, start=clock(8), end=clock(18))
            for d in range(5)
        )
    policy, created = SlaPolicy.objects.get_or_create(
        name="Bench SLA", defaults={"business_hours": hours, "order": 1}
    )
    if created:
        SlaTarget.objects.bulk_create(
            SlaTarget(policy=policy, priority=p, first_response_minutes=m)
            for p, m in (("urgent", 60), ("high", 240), ("normal", 480), ("low", 1440))
        )
    return int(policy.pk)


def _seed_tickets(new: int, agents: list[int], teams: list[int], tags: list[int]) -> None:
    from django.conf import settings
    from django.utils import timezone

    now = timezone.now()
    customers = max(1, new // 4)
    first_customer = _scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets_customer")
    _chunked(
        "customers",
        "INSERT INTO tickets_customer (id, name, notes, created_at, updated_at) "
        "SELECT g, (%(first)s::text[])[1 + g %% %(nfirst)s] || ' ' "
        "|| (%(last)s::text[])[1 + (g / %(nfirst)s) %% %(nlast)s], '', %(now)s, %(now)s "
        "FROM generate_series(%(lo)s, %(hi)s) g",
        first_customer,
        customers,
        {"first": FIRST_NAMES, "nfirst": len(FIRST_NAMES), "last": LAST_NAMES,
         "nlast": len(LAST_NAMES), "now": now},
    )  # fmt: skip
    _execute("SELECT setval(pg_get_serial_sequence('tickets_customer', 'id'), %s)",
             [first_customer + customers - 1])  # fmt: skip
    _chunked(
        "identities",
        "INSERT INTO tickets_contactidentity (customer_id, kind, value, display_name, "
        "verified, created_at) SELECT g, 'email', 'customer' || g || '@bench.example', '', "
        "false, %(now)s FROM generate_series(%(lo)s, %(hi)s) g",
        first_customer,
        customers,
        {"now": now},
    )
    first = int(_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets_ticket"))
    params = {
        "now": now, "number_start": settings.HELPDESK_TICKET_NUMBER_START,
        "words": list(WORDS), "nwords": len(WORDS),
        "statuses": STATUSES, "nstatuses": len(STATUSES),
        "priorities": PRIORITIES, "npriorities": len(PRIORITIES),
        "channels": CHANNELS, "nchannels": len(CHANNELS),
        "first_customer": first_customer, "customers": customers,
        "agents": agents, "nagents": len(agents), "teams": teams, "nteams": len(teams),
        "policy": _bench_policy(), "tags": tags, "ntags": len(tags), "agent": agents[0],
    }  # fmt: skip
    _chunked("tickets", _TICKETS_SQL, first, new, params)
    _execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)",
             [first + new - 1])  # fmt: skip
    _chunked("sla clocks", _SLA_SQL, first, new, params)
    _chunked("events", _EVENTS_SQL, first, new, params)
    _chunked("tags", _TAGS_SQL, first, new, params)
    _chunked("reads", _READS_SQL, first, new, params)


def _seed_messages(new: int, agent: int) -> None:
    low = int(_scalar("SELECT MIN(id) FROM tickets_ticket"))
    high = int(_scalar("SELECT MAX(id) FROM tickets_ticket"))
    params = {
        "words": list(WORDS), "nwords": len(WORDS), "paragraphs": PARAGRAPHS, "skus": SKUS,
        "low": low, "span": high - low + 1, "agent": agent,
    }  # fmt: skip
    _execute(_POOL_SQL, params)
    _chunked("messages", _MESSAGES_SQL, 1, new, params)


def seed(*, tickets: int, messages: int, bulk: int = 200_000) -> dict[str, Any]:
    """Top up to `tickets` tickets and `messages` messages; returns what the requests use.

    A load of more than `bulk` new rows drops the tables' secondary indexes first and
    rebuilds them after (see SAVED_INDEXES)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from helpdesk.roles import AGENTS_GROUP
    from tickets.models import Tag, Team

    call_command("migrate", verbosity=0)
    _restore_indexes()  # an earlier seed that was interrupted
    group, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
    agents = []
    for i in range(20):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench-agent-{i}",
            defaults={"first_name": FIRST_NAMES[i], "last_name": LAST_NAMES[i]},
        )
        user.groups.add(group)
        agents.append(user.pk)
    teams = [Team.objects.get_or_create(name=f"Bench team {i}")[0].pk for i in range(5)]
    Team.objects.get(pk=teams[0]).members.add(agents[0])
    tags = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    new_tickets = tickets - int(_scalar("SELECT COUNT(*) FROM tickets_ticket"))
    new_messages = messages - int(_scalar("SELECT COUNT(*) FROM tickets_message"))
    if new_tickets > 0 or new_messages > 0:
        _execute("SELECT setseed(0.42)")
        # Generated rows reference only rows generated before them: skip the per-row
        # foreign key triggers (as pg_restore does) for the load. Only a superuser may;
        # anyone else loads with the checks, more slowly.
        superuser = _scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if superuser:
            _execute("SET session_replication_role = replica")
        _execute("SET synchronous_commit = off")
        try:
            if new_tickets + new_messages > bulk:
                _drop_indexes(BULK_TABLES)
            if new_tickets > 0:
                _seed_tickets(new_tickets, agents, teams, tags)
            if new_messages > 0:
                _seed_messages(new_messages, agents[0])
        finally:
            if superuser:
                _execute("RESET session_replication_role")
            _execute("RESET synchronous_commit")
            _restore_indexes()
        sys.stderr.write("vacuum and analyze...\n")
        # What autovacuum would have done by now: planner statistics and the visibility map
        # (which lets counts use index-only scans).
        for table in (*BULK_TABLES, "tickets_customer", "tickets_contactidentity"):
            _execute(f"VACUUM (ANALYZE) {table}")
    with connection.cursor() as cursor:
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
