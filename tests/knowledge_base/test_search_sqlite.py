"""The embedded default's help-centre search: FTS5 tables kept current by triggers."""

import importlib
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from knowledge_base import search_sqlite
from knowledge_base.models import Article, ArticleStatus
from knowledge_base.selectors import kb_search
from knowledge_base.services import article_create, article_index_refresh, article_save

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _indexed(table: str = search_sqlite.FTS_TABLE) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {table}")  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def _titles(query: str) -> list[str]:
    return [hit.title for hit in kb_search(query=query)]


def test_it_finds_the_password_article_for_a_typo(sqlite, demo):
    assert _titles("pasword") == ["How to reset your password"]
    assert _titles("pasword reset")[0] == "How to reset your password"


def test_it_finds_typos_without_the_trigram_tokenizer(sqlite, publish, monkeypatch):
    # SQLite < 3.34: the migration leaves the trigram table out; every title is measured.
    publish("Reset your password", "Use the link.")
    publish("Track your order", "Carrier scans.")
    monkeypatch.setattr(search_sqlite, "_tables", lambda: frozenset({search_sqlite.FTS_TABLE}))

    assert _titles("pasword") == ["Reset your password"]


def test_it_matches_substrings_without_fts5(sqlite, publish, monkeypatch):
    publish("Reset your password", "Use the link.")
    monkeypatch.setattr(search_sqlite, "_tables", lambda: frozenset())

    assert _titles("password") == ["Reset your password"]
    assert _titles("pasword") == []


def test_it_never_indexes_or_finds_drafts(sqlite, publish):
    published = publish("Reset your password", "Use the link.")
    draft = publish("Password rules (draft)", "Passwords and links.", status=ArticleStatus.DRAFT)

    assert _indexed() == {published.pk} == _indexed(search_sqlite.TRIGRAM_TABLE)
    for query in ["password", "pasword", "password rules", "rules", "passwords links draft"]:
        assert "Password rules (draft)" not in _titles(query), query
    assert draft.pk not in _indexed()


def test_it_reindexes_an_edited_article(sqlite, publish):
    article = publish("Track your order", "Use the tracking number.")
    article.title, article.body, article.excerpt = "Follow your parcel", "Carrier scans.", ""

    article_save(article=article, editor=None)

    assert _titles("tracking") == []
    hit = kb_search(query="carrier")[0]
    assert hit.title == "Follow your parcel" and "<mark>Carrier</mark>" in str(hit.snippet)
    assert _titles("parcle") == ["Follow your parcel"]


def test_it_drops_an_unpublished_article_however_it_is_written(sqlite, publish):
    article = publish("Track your order", "Use the tracking number.")
    article.status = ArticleStatus.DRAFT
    article_save(article=article, editor=None)
    assert _titles("tracking") == [] and _indexed() == set()

    # The triggers see writes that bypass the service too.
    Article.objects.filter(pk=article.pk).update(status=ArticleStatus.PUBLISHED)
    assert _titles("tracking") == ["Track your order"]
    Article.objects.filter(pk=article.pk).delete()
    assert _indexed() == set() == _indexed(search_sqlite.TRIGRAM_TABLE)


def test_it_does_not_reindex_on_a_page_view(sqlite, publish, django_assert_num_queries):
    article = publish("Track your order", "Use the tracking number.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT total_changes()")
        before = cursor.fetchone()[0]
        Article.objects.filter(pk=article.pk).update(view_count=5)
        cursor.execute("SELECT total_changes()")
        # One row changed: the article. The triggers fire on indexed columns only.
        assert cursor.fetchone()[0] - before == 1


def test_it_repairs_the_index_from_the_articles(sqlite, publish):
    article = publish("Track your order", "Use the tracking number.")
    with connection.cursor() as cursor:
        for table in (search_sqlite.FTS_TABLE, search_sqlite.TRIGRAM_TABLE):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    assert _titles("tracking") == []

    article_index_refresh()

    assert _indexed() == {article.pk} == _indexed(search_sqlite.TRIGRAM_TABLE)
    assert _titles("tracking") == ["Track your order"]


def test_it_keeps_its_triggers_after_every_migration(sqlite, db):
    # SQLite drops a table's triggers when a migration rebuilds the table (Django does
    # for most field changes): such a migration must create them again.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'knowledge_base_article'"
        )
        names = {row[0] for row in cursor.fetchall()}

    assert names == {
        f"{table}_{event}"
        for table in (search_sqlite.FTS_TABLE, search_sqlite.TRIGRAM_TABLE)
        for event in ("insert", "update", "delete")
    }


def test_it_indexes_existing_articles_when_the_migration_runs(sqlite, transactional_db, category):
    executor = MigrationExecutor(connection)
    executor.migrate([("knowledge_base", "0002_search_indexes")])
    try:
        article_create(
            title="Reset your password",
            category=category,
            body="Use the link.",
            status=ArticleStatus.PUBLISHED,
        )
        article_create(title="Draft", category=category, body="password", status="draft")
    finally:
        executor.loader.build_graph()
        executor.migrate([("knowledge_base", "0003_sqlite_search")])

    assert _titles("password") == ["Reset your password"]
    assert _titles("pasword") == ["Reset your password"]


def test_it_migrates_without_the_trigram_tokenizer(sqlite, transactional_db, category, caplog):
    # SQLite < 3.34 has FTS5 but no trigram tokenizer: the migration must still succeed.
    migration = importlib.import_module("knowledge_base.migrations.0003_sqlite_search")
    article_create(title="Reset your password", category=category, body="Link.", status="published")
    executor = MigrationExecutor(connection)
    executor.migrate([("knowledge_base", "0002_search_indexes")])
    search_sqlite._complete.clear()
    try:
        with connection.schema_editor() as editor:
            real_execute = editor.execute

            def execute(sql: str, params: Any = ()) -> None:
                if "tokenize='trigram'" in sql:
                    raise OperationalError("no such tokenizer: trigram")
                real_execute(sql, params)

            editor.execute = execute  # type: ignore[method-assign]
            migration.create_search_tables(None, editor)

        assert search_sqlite._tables() == {search_sqlite.FTS_TABLE}
        assert "kb_article_trigram not created" in caplog.text
        assert _titles("password") == _titles("pasword") == ["Reset your password"]
    finally:
        with connection.schema_editor() as editor:
            migration.drop_search_tables(None, editor)
        executor.loader.build_graph()
        executor.migrate([("knowledge_base", "0003_sqlite_search")])
        search_sqlite._complete.clear()
    assert search_sqlite._tables() == {search_sqlite.FTS_TABLE, search_sqlite.TRIGRAM_TABLE}


def test_it_searches_in_two_queries_however_many_articles_match(
    sqlite, publish, django_assert_num_queries
):
    publish("Refund one", "refund")
    kb_search(query="refund")  # the tables are looked up once per database
    with django_assert_num_queries(2):
        assert len(kb_search(query="refund")) == 1
    for i in range(15):
        publish(f"Refund {i}", "refund")

    with django_assert_num_queries(2):
        assert len(kb_search(query="refund", limit=10)) == 10
