"""Typo-tolerant search over ticket subjects and customer names (tickets.search_trigram).

PostgreSQL: pg_trgm and trigram GIN indexes, which `subject %> term` (and the customer
filter's ILIKE) read. SQLite (the embedded default): FTS5 tables with the trigram
tokenizer, kept by triggers, when the SQLite build has it (3.34+); created here only on
SQLite. The SQL lives in tickets.search_trigram, which also reinstalls the triggers after a
later migration rebuilds a table (tickets.apps).
"""

from django.db import migrations

INDEXES = [
    ("ticket_subject_trgm", "tickets_ticket", "subject"),
    ("customer_name_trgm", "tickets_customer", "name"),
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # Kept on the way back: the help centre's indexes need it too.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in INDEXES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
            )
    elif vendor == "sqlite":
        from tickets.search_trigram import sqlite_install

        with schema_editor.connection.cursor() as cursor:
            sqlite_install(cursor)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, _, _ in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    elif vendor == "sqlite":
        from tickets.search_trigram import sqlite_uninstall

        with schema_editor.connection.cursor() as cursor:
            sqlite_uninstall(cursor)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_agent_preferences")]

    operations = [migrations.RunPython(create, drop)]
