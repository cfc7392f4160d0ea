"""/api/v1/kb/: categories and articles to read (`kb:read`) and write (`kb:write`)."""

import pytest

from knowledge_base.models import Article, ArticleRevision, ArticleStatus
from knowledge_base.services import article_create, category_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing():
    return category_create(name="Billing", description="Invoices and refunds")


@pytest.fixture
def articles(billing):
    published = article_create(
        title="How refunds work", category=billing, body="Refunds take **5 days**.",
        status=ArticleStatus.PUBLISHED,
    )  # fmt: skip
    draft = article_create(title="New pricing", category=billing, body="Soon.")
    return {"published": published, "draft": draft}


@pytest.fixture
def reader(agent, token_client):
    return token_client(agent, "kb:read")


@pytest.fixture
def editor(admin_user, token_client):
    return token_client(admin_user, "kb:read", "kb:write")


def test_readers_see_published_articles_only(reader, articles):
    listed = reader.get("/api/v1/kb/articles/").json()
    published = reader.get(f"/api/v1/kb/articles/{articles['published'].pk}/")
    draft = reader.get(f"/api/v1/kb/articles/{articles['draft'].pk}/")
    asked_for_drafts = reader.get("/api/v1/kb/articles/", {"status": "draft"}).json()

    assert [a["title"] for a in listed["results"]] == ["How refunds work"]
    assert published.status_code == 200
    body = published.json()
    assert body["body_html"] == "<p>Refunds take <strong>5 days</strong>.</p>"
    assert body["category"]["slug"] == "billing" and body["url"].endswith("/how-refunds-work/")
    assert draft.status_code == 404 and draft.json()["error"]["code"] == "not_found"
    assert asked_for_drafts["results"] == []


def test_editors_see_drafts_too(editor, articles):
    listed = editor.get("/api/v1/kb/articles/", {"status": "draft"}).json()

    assert [a["title"] for a in listed["results"]] == ["New pricing"]
    assert editor.get(f"/api/v1/kb/articles/{articles['draft'].pk}/").status_code == 200


def test_articles_page_by_cursor_and_filter_by_category(reader, billing):
    other = category_create(name="Shipping")
    made = [
        article_create(title=f"Article {i}", category=billing if i % 2 else other, body="x",
                       status=ArticleStatus.PUBLISHED)
        for i in range(5)
    ]  # fmt: skip

    first = reader.get("/api/v1/kb/articles/", {"limit": 2}).json()
    rest = reader.get("/api/v1/kb/articles/", {"cursor": first["next_cursor"]}).json()
    in_billing = reader.get("/api/v1/kb/articles/", {"category": billing.pk}).json()
    bad = reader.get("/api/v1/kb/articles/", {"cursor": "nope"})

    ids = [a["id"] for a in first["results"] + rest["results"]]
    assert ids == [a.pk for a in reversed(made)] and rest["next_cursor"] is None
    assert {a["title"] for a in in_billing["results"]} == {"Article 1", "Article 3"}
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_the_article_list_costs_the_same_queries_for_2_or_25(
    reader, billing, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(2):
        article_create(title=f"A{i}", category=billing, body="x", status=ArticleStatus.PUBLISHED)
    reader.get("/api/v1/kb/articles/")  # the token's last use is written on the first call
    with CaptureQueriesContext(connection) as few:
        reader.get("/api/v1/kb/articles/")
    for i in range(23):
        other = category_create(name=f"Category {i}")
        article_create(title=f"B{i}", category=other, body="x", status=ArticleStatus.PUBLISHED)

    with django_assert_max_num_queries(len(few)):
        assert len(reader.get("/api/v1/kb/articles/").json()["results"]) == 25


def test_categories_list_with_their_published_counts(reader, articles):
    body = reader.get("/api/v1/kb/categories/").json()

    assert [(c["name"], c["published_count"]) for c in body["results"]] == [("Billing", 1)]


def test_an_editor_creates_updates_publishes_and_unpublishes_an_article(editor, billing):
    created = editor.post(
        "/api/v1/kb/articles/",
        {"title": "Returns", "category": billing.pk, "body": "Send it back within *30 days*."},
        format="json",
    )
    assert created.status_code == 201, created.json()
    article_id = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["slug"] == "returns"

    updated = editor.patch(
        f"/api/v1/kb/articles/{article_id}/", {"body": "Within **60 days**."}, format="json"
    )
    published = editor.post(f"/api/v1/kb/articles/{article_id}/publish/")
    unpublished = editor.post(f"/api/v1/kb/articles/{article_id}/unpublish/")

    assert updated.status_code == 200
    assert updated.json()["body_html"] == "<p>Within <strong>60 days</strong>.</p>"
    assert published.json()["status"] == "published" and published.json()["published_at"]
    assert unpublished.json()["status"] == "draft"
    assert ArticleRevision.objects.filter(article_id=article_id).count() == 2


def test_an_editor_creates_and_renames_a_category(editor):
    created = editor.post("/api/v1/kb/categories/", {"name": "Shipping"}, format="json")
    renamed = editor.patch(
        f"/api/v1/kb/categories/{created.json()['id']}/", {"name": "Delivery"}, format="json"
    )

    assert created.status_code == 201 and created.json()["slug"] == "shipping"
    assert renamed.json()["name"] == "Delivery" and renamed.json()["slug"] == "shipping"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"title": "", "category": 1, "body": "x"}, "title"),
        ({"title": "T", "category": 999999, "body": "x"}, "category"),
        ({"title": "T", "body": "x"}, "category"),
        ({"title": "T", "category": 1, "body": "x", "status": "live"}, "status"),
    ],
)
def test_bad_article_input_is_400_naming_the_field(editor, billing, body, field):
    if body.get("category") == 1:
        body["category"] = billing.pk

    response = editor.post("/api/v1/kb/articles/", body, format="json")

    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not Article.objects.exists()


def test_a_taken_slug_is_400_with_its_code(editor, articles, billing):
    response = editor.post(
        "/api/v1/kb/articles/",
        {"title": "Other", "category": billing.pk, "body": "x", "slug": "how-refunds-work"},
        format="json",
    )

    assert response.status_code == 400 and response.json()["error"]["code"] == "slug_taken"


def test_writing_needs_the_write_scope(admin_user, token_client, articles):
    read_only = token_client(admin_user, "kb:read")
    url = f"/api/v1/kb/articles/{articles['published'].pk}/"

    answers = [
        read_only.patch(url, {"title": "X"}, format="json"),
        read_only.post(f"{url}unpublish/"),
        read_only.post("/api/v1/kb/categories/", {"name": "X"}, format="json"),
    ]

    for response in answers:
        assert response.status_code == 403
        assert "`kb:write`" in response.json()["error"]["message"]
    assert Article.objects.get(pk=articles["published"].pk).is_published
    # Drafts stay hidden from a token that cannot write, whoever owns it.
    assert read_only.get(f"/api/v1/kb/articles/{articles['draft'].pk}/").status_code == 404


def test_reading_needs_the_read_scope(agent, token_client, articles):
    client = token_client(agent, "tickets:read")

    response = client.get("/api/v1/kb/articles/")

    assert response.status_code == 403 and "`kb:read`" in response.json()["error"]["message"]


def test_an_agent_without_the_help_centre_permissions_cannot_write(agent, token_client, billing):
    client = token_client(agent, "kb:read", "kb:write")

    response = client.post(
        "/api/v1/kb/articles/", {"title": "T", "category": billing.pk, "body": "x"}, format="json"
    )

    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert not Article.objects.exists()


def test_a_missing_category_or_article_is_404_in_the_error_shape(reader, editor):
    for client, url in (
        (reader, "/api/v1/kb/categories/999999/"),
        (reader, "/api/v1/kb/articles/999999/"),
        (editor, "/api/v1/kb/articles/999999/publish/"),
    ):
        response = client.post(url) if url.endswith("publish/") else client.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_search_finds_published_articles_only(reader, articles):
    hits = reader.get("/api/v1/kb/search/", {"q": "refunds"}).json()["results"]
    drafts = reader.get("/api/v1/kb/search/", {"q": "pricing"}).json()["results"]
    missing = reader.get("/api/v1/kb/search/")

    assert [h["title"] for h in hits] == ["How refunds work"] and drafts == []
    assert missing.status_code == 400 and "q" in missing.json()["error"]["fields"]
