"""Typo-tolerant search: ticket subjects and customer names that look like what was typed.

PostgreSQL: pg_trgm's word similarity (`subject %> term`), answered by the trigram GIN
indexes of migration 0011. SQLite (the embedded default): FTS5 tables with the trigram
tokenizer (SQLite 3.34+), kept by triggers the same migration creates; they find the rows
that share trigrams with the term, best bm25 first, and the similarity is then computed
here the way pg_trgm counts it, so a typo finds the same tickets on both.

It is a fallback (tickets.selectors.ticket_list tries it only when a word search found
nothing) and bounded: at most TYPO_LIMIT customers, SQLITE_CANDIDATES rows per table.
"""

import contextlib
import re
import sqlite3
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q

from tickets.models import Customer

# Below this, a trigram match is noise rather than a typo ("printr" ~ "printer" is 0.71).
TRIGRAM_MIN_SIMILARITY = 0.5
TYPO_LIMIT = 50
SQLITE_CANDIDATES = 500
_WORD = re.compile(r"\w+", re.UNICODE)


def _sqlite_has_trigram() -> bool:
    # FTS5 gained the trigram tokenizer in SQLite 3.34; FTS5 itself is a build option.
    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


SQLITE_TRIGRAM = _sqlite_has_trigram()
SQLITE_TABLES = {
    # FTS5 table: (source table, indexed column)
    "tickets_ticket_trgm": ("tickets_ticket", "subject"),
    "tickets_customer_trgm": ("tickets_customer", "name"),
}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before, one after."""
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(term: str, text: str) -> float:
    """How much of `term` some word of `text` holds, word by word, averaged: pg_trgm's
    word similarity (`text %> term`) in spirit, for SQLite and for highlighting."""
    wanted = [trigrams(w) for w in words(term)]
    have = [trigrams(w) for w in words(text)]
    if not wanted or not have:
        return 0.0
    best = [max(len(w & h) / len(w) for h in have) for w in wanted]
    return sum(best) / len(best)


def typo_q(term: str) -> Q | None:
    """Tickets whose subject, or whose customer's name, looks like `term`; None when the
    database cannot say (SQLite without the trigram tokenizer) or `term` has no word.
    On PostgreSQL run it inside `threshold()`: the operator's cut-off is a setting."""
    if not words(term):
        return None
    if connection.vendor == "postgresql":
        named = Customer.objects.filter(name__trigram_word_similar=term).order_by()
        ids = list(named.values_list("pk", flat=True)[:TYPO_LIMIT])
        return Q(subject__trigram_word_similar=term) | Q(customer_id__in=ids)
    if connection.vendor != "sqlite" or not SQLITE_TRIGRAM:
        return None
    tickets = _sqlite_similar("tickets_ticket_trgm", term, SQLITE_CANDIDATES)
    customers = _sqlite_similar("tickets_customer_trgm", term, TYPO_LIMIT)
    if not tickets and not customers:
        return Q(pk__in=[])
    return Q(pk__in=tickets) | Q(customer_id__in=customers)


@contextlib.contextmanager
def threshold() -> Iterator[None]:
    """PostgreSQL: `%>` matches from TRIGRAM_MIN_SIMILARITY up, for this transaction only."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(TRIGRAM_MIN_SIMILARITY)],
        )
        yield


def _sqlite_similar(table: str, term: str, limit: int) -> list[int]:
    # The tokenizer indexes every three characters of the text: a row that shares any of
    # the term's inner trigrams is a candidate, and bm25 puts those sharing most first.
    grams = sorted({w[i : i + 3] for w in words(term) for i in range(len(w) - 2)})
    if not grams:
        return []
    match = " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams)
    column = SQLITE_TABLES[table][1]
    sql = f"SELECT rowid, {column} FROM {table} WHERE {table} MATCH %s ORDER BY rank LIMIT %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, limit])
        rows = cursor.fetchall()
    return [pk for pk, text in rows if similarity(term, text or "") >= TRIGRAM_MIN_SIMILARITY]


def _sqlite_statements(fts: str, source: str, column: str) -> list[str]:
    # Every name here is one of SQLITE_TABLES' constants, never input.
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({column}, tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ins AFTER INSERT ON {source} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_upd AFTER UPDATE OF {column} ON {source} BEGIN "  # noqa: S608
        f"UPDATE {fts} SET {column} = new.{column} WHERE rowid = old.id; END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_del AFTER DELETE ON {source} BEGIN "  # noqa: S608
        f"DELETE FROM {fts} WHERE rowid = old.id; END",
        f"DELETE FROM {fts}",  # noqa: S608
        f"INSERT INTO {fts}(rowid, {column}) SELECT id, {column} FROM {source}",  # noqa: S608
    ]


def sqlite_install(cursor: CursorWrapper) -> None:
    """Create the FTS5 tables and the triggers that keep them, then fill them from their
    tables. Safe to run again (after a table was rebuilt by a migration, which drops its
    triggers): every statement is IF NOT EXISTS, and the fill starts from empty."""
    if not SQLITE_TRIGRAM:
        return
    for fts, (source, column) in SQLITE_TABLES.items():
        for statement in _sqlite_statements(fts, source, column):
            cursor.execute(statement)


def sqlite_uninstall(cursor: CursorWrapper) -> None:
    for fts in SQLITE_TABLES:
        for suffix in ("ins", "upd", "del"):
            cursor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        cursor.execute(f"DROP TABLE IF EXISTS {fts}")


_TRIGGERS = [f"{fts}_{suffix}" for fts in SQLITE_TABLES for suffix in ("ins", "upd", "del")]


def sqlite_repair(cursor: CursorWrapper) -> bool:
    """Reinstall when a migration rebuilt a source table (SQLite drops a table's triggers
    with it, and Django rebuilds a table to alter it); True when it had to. Before
    migration 0011 there are no tables to repair."""
    if not SQLITE_TRIGRAM:
        return False
    cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
    found = {name for (name,) in cursor.fetchall()}
    if not set(SQLITE_TABLES) <= found or set(_TRIGGERS) <= found:
        return False
    sqlite_install(cursor)
    return True
