"""SQLite-only search machinery: FTS5 tables of the published articles, kept current by
triggers, and filled from the articles already there. A no-op on PostgreSQL, which has
its stored vectors and GIN indexes (0002).

- kb_article_fts: title, excerpt and body text as porter-stemmed words (bm25 ranking);
- kb_article_trigram: titles in trigrams, for typos. The trigram tokenizer needs SQLite
  3.34+; on an older SQLite the table is left out and typos are measured against every
  published title instead (knowledge_base.search_sqlite). Without FTS5 at all, nothing
  is created and search falls back to substring matching.

Triggers rather than service code keep the tables current, so every write counts: the
admin, a queryset update(), a delete, loaddata. Only changes to the indexed columns and
the status fire them, not view counts or votes.
"""

import logging

from django.db import OperationalError, migrations

logger = logging.getLogger(__name__)

ARTICLE = "knowledge_base_article"
TABLES = [
    ("kb_article_fts", "title, excerpt, body_text", "porter unicode61 remove_diacritics 2"),
    ("kb_article_trigram", "title", "trigram"),
]


def _triggers(table: str, columns: str) -> list[str]:
    new_values = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    insert = (
        f"INSERT INTO {table}(rowid, {columns}) SELECT new.id, {new_values}"
        " WHERE new.status = 'published';"
    )
    delete = f"DELETE FROM {table} WHERE rowid = old.id;"
    return [
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON {ARTICLE} BEGIN {insert} END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE OF {columns}, status ON {ARTICLE}"
        f" BEGIN {delete} {insert} END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON {ARTICLE} BEGIN {delete} END",
    ]


def create_search_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table, columns, tokenizer in TABLES:
        try:
            schema_editor.execute(
                f"CREATE VIRTUAL TABLE {table} USING fts5({columns}, tokenize='{tokenizer}')"
            )
        except OperationalError as exc:
            # No FTS5, or no trigram tokenizer (SQLite < 3.34): search degrades, see above.
            logger.warning("Help-centre search: %s not created (%s).", table, exc)
            continue
        for sql in _triggers(table, columns):
            schema_editor.execute(sql)
        schema_editor.execute(
            f"INSERT INTO {table}(rowid, {columns}) SELECT id, {columns} FROM {ARTICLE}"
            " WHERE status = 'published'"
        )


def drop_search_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table, _, _ in TABLES:
        for event in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{event}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("knowledge_base", "0002_search_indexes")]

    operations = [migrations.RunPython(create_search_tables, drop_search_tables)]
