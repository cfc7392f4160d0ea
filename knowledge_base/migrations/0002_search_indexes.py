"""PostgreSQL-only search machinery: pg_trgm, the GIN index on the stored search vector,
and a trigram GIN index on titles for the typo fallback. Skipped on SQLite (the embedded
default), where search uses substring matching instead."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("kb_article_search_vector", "USING gin (search_vector)"),
    ("kb_article_title_trgm", "USING gin (title gin_trgm_ops)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Article vectors run to a few kB, so PostgreSQL would compress them; ranking then
    # decompresses every matching row. Stored uncompressed, ranking a broad query over
    # 10,000 articles measured ~10x faster (bench/bench_kb.py).
    schema_editor.execute(
        "ALTER TABLE knowledge_base_article ALTER COLUMN search_vector SET STORAGE EXTERNAL"
    )
    for name, using in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON knowledge_base_article {using}"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE knowledge_base_article ALTER COLUMN search_vector SET STORAGE EXTENDED"
    )
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("knowledge_base", "0001_articles_search_deflection_request_types")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
