import pytest
from django.db import connection

from knowledge_base.errors import KbError
from knowledge_base.models import Article, ArticleRevision, ArticleStatus
from knowledge_base.selectors import kb_search
from knowledge_base.services import article_save

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_it_renders_markdown_and_sanitizes_html(publish):
    article = publish(
        "Formatting",
        "## Steps\n\n* **one**\n\n<script>alert(1)</script><a href='javascript:x()'>x</a>"
        "<img src=x onerror=alert(1)>",
    )

    assert "<h2>Steps</h2>" in article.body_html and "<strong>one</strong>" in article.body_html
    assert "<script" not in article.body_html and "onerror" not in article.body_html
    assert "javascript:" not in article.body_html
    assert "alert(1)" not in article.body_text or "<" not in article.body_text


@pytest.mark.embedded
def test_it_records_a_revision_per_change_with_the_editor(publish, agent):
    article = publish("Track your order", "v1", author=agent)
    article.body = "v2"
    article_save(article=article, editor=agent)
    article_save(article=article, editor=agent)  # unchanged: no new revision

    revisions = list(ArticleRevision.objects.filter(article=article).order_by("id"))
    assert [r.body for r in revisions] == ["v1", "v2"]
    assert all(r.editor == agent for r in revisions)


def test_it_keeps_the_search_vector_current_on_save(publish, pg):
    article = publish("Track your order", "Use the tracking number.")
    assert [h.title for h in kb_search(query="tracking")] == ["Track your order"]

    article.title = "Follow your parcel"
    article.body = "Carrier scans."
    article.excerpt = ""
    article_save(article=article, editor=None)

    assert kb_search(query="tracking") == []
    assert [h.title for h in kb_search(query="carrier")] == ["Follow your parcel"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'kb_article_search_vector'"
        )
        assert "gin" in cursor.fetchone()[0].lower()


@pytest.mark.embedded
def test_it_refuses_a_duplicate_slug_with_a_clear_error(publish, category):
    publish("Track your order")
    duplicate = Article(title="Other", slug="track-your-order", category=category, body="x")

    with pytest.raises(KbError) as err:
        article_save(article=duplicate, editor=None)

    assert "already uses the address" in err.value.message


@pytest.mark.embedded
def test_it_makes_unique_slugs_and_stamps_publication(publish):
    first = publish("Same title")
    second = publish("Same title", status=ArticleStatus.DRAFT)

    assert first.slug == "same-title" and second.slug == "same-title-2"
    assert first.published_at is not None and second.published_at is None


def test_it_creates_no_sqlite_search_tables_on_postgresql(pg):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('kb_article_fts'), to_regclass('kb_article_trigram')")
        assert cursor.fetchone() == (None, None)
