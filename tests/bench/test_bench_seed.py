"""The agent benchmark's seed (bench/bench_agent.py) at a small scale: realistic rows,
top-ups, and every index it drops around a bulk load back exactly as it was."""

from typing import Any

import pytest
from django.db import connection

from bench.bench_agent import BULK_TABLES, SAVED_INDEXES, seed

pytestmark = pytest.mark.django_db(transaction=True)  # the seed runs VACUUM


def _rows(sql: str, params: Any = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _indexes() -> list[tuple]:
    return _rows(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "ORDER BY 1, 2",
        [list(BULK_TABLES)],
    )


def test_the_bench_seed_loads_realistic_rows_and_restores_every_index() -> None:
    before = _indexes()
    assert any(name == "message_body_fts" for _, name, _ in before)
    info = seed(tickets=400, messages=2000, bulk=0)  # bulk=0: drop and rebuild
    assert _indexes() == before
    assert _rows("SELECT to_regclass(%s)", [SAVED_INDEXES]) == [(None,)]
    assert _rows("SELECT COUNT(*) FROM tickets_ticket") == [(400,)]
    assert _rows("SELECT COUNT(*) FROM tickets_message") == [(2000,)]
    assert _rows("SELECT COUNT(*) FROM tickets_ticketevent WHERE kind = 'created'") == [(400,)]
    assert len(info["numbers"]) == 200
    statuses = dict(_rows("SELECT status, COUNT(*) FROM tickets_ticket GROUP BY status"))
    assert set(statuses) == {"new", "open", "pending", "on_hold", "solved", "closed"}
    # Worked-on tickets carry a running clock whose due time is the ticket's; waiting ones
    # a paused clock; finished ones none.
    assert _rows(
        "SELECT t.status IN ('new', 'open'), r.state, COUNT(*), "
        "BOOL_AND(r.due_at IS NOT DISTINCT FROM t.sla_next_due_at) "
        "FROM tickets_ticket t LEFT JOIN tickets_slarecord r ON r.ticket_id = t.id "
        "WHERE t.status NOT IN ('solved', 'closed') GROUP BY 1, 2 ORDER BY 1, 2"
    ) == [
        (False, "paused", statuses["pending"] + statuses["on_hold"], True),
        (True, "running", statuses["new"] + statuses["open"], True),
    ]
    assert _rows(
        "SELECT COUNT(*) FROM tickets_slarecord r JOIN tickets_ticket t ON t.id = r.ticket_id "
        "WHERE t.status IN ('solved', 'closed')"
    ) == [(0,)]
    # Messages fall inside their ticket's life; inbound ones are the customer's.
    assert _rows(
        "SELECT COUNT(*) FROM tickets_message m JOIN tickets_ticket t ON t.id = m.ticket_id "
        "WHERE m.created_at < t.created_at OR m.created_at > t.updated_at "
        "OR (m.direction = 'inbound') <> (m.author_identity_id IS NOT NULL)"
    ) == [(0,)]
    # The search terms the benchmark uses are there: a product code in every body.
    assert _rows("SELECT COUNT(*) FROM tickets_message WHERE body_text NOT LIKE '%% sku%%'") == [
        (0,)
    ]
    # A second run at the same scale adds nothing; a bigger one tops up.
    seed(tickets=400, messages=2000, bulk=0)
    assert _rows("SELECT COUNT(*) FROM tickets_ticket") == [(400,)]
    seed(tickets=500, messages=2100)
    assert _rows("SELECT COUNT(*), COUNT(DISTINCT number) FROM tickets_ticket") == [(500, 500)]
    assert _rows("SELECT COUNT(*) FROM tickets_message") == [(2100,)]
    assert _indexes() == before
