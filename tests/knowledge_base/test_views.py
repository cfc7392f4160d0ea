import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge_base.models import Article, ArticleStatus, Category, Deflection, SearchLog
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_it_shows_categories_and_popular_articles_on_the_home_page(client, demo):
    html = client.get("/kb/").content.decode()

    assert "<title>Help centre</title>" in html and 'name="description"' in html
    assert "Billing and payments" in html and "How to reset your password" in html
    assert "(draft)" not in html
    assert 'name="viewport"' in html


def test_it_lists_a_category_with_constant_queries(client, category, publish):
    publish("One")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/kb/category/{category.slug}/")
    for i in range(10):
        publish(f"Article {i}")
    with CaptureQueriesContext(connection) as many:
        html = client.get(f"/kb/category/{category.slug}/").content.decode()

    assert len(one.captured_queries) == len(many.captured_queries)
    assert "Article 9" in html and "Help centre</a>" in html  # breadcrumbs


def test_it_shows_an_article_with_breadcrumbs_meta_and_related(client, publish):
    article = publish("Track your order", "Use the **tracking** number.", excerpt="Find it.")
    publish("Delivery times")

    response = client.get(f"/kb/article/{article.slug}/")

    html = response.content.decode()
    assert "<title>Track your order · Help centre</title>" in html
    assert '<meta name="description" content="Find it.">' in html
    assert "<strong>tracking</strong>" in html and "Delivery times" in html
    assert 'href="/kb/category/orders/"' in html
    assert Article.objects.get(pk=article.pk).view_count == 1


def test_it_hides_drafts_from_the_public(client, publish):
    draft = publish("Not yet", status=ArticleStatus.DRAFT)

    assert client.get(f"/kb/article/{draft.slug}/").status_code == 404


def test_it_counts_one_helpful_vote_per_session(client, publish):
    article = publish("Track your order")

    client.post(f"/kb/article/{article.slug}/vote/", {"helpful": "yes"})
    client.post(f"/kb/article/{article.slug}/vote/", {"helpful": "no"})

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    assert client.get(f"/kb/article/{article.slug}/vote/").status_code == 405


def test_it_records_a_deflection_instead_of_a_ticket(client, publish):
    article = publish("Track your order")
    page = client.get(f"/kb/article/{article.slug}/?from=support&q=where+is+my+parcel")
    assert b"This answered my question" in page.content

    response = client.post(f"/kb/article/{article.slug}/answered/", {"q": "where is my parcel"})
    client.post(f"/kb/article/{article.slug}/answered/", {"q": "again"})

    assert response.status_code == 200 and b"Glad that helped" in response.content
    deflection = Deflection.objects.get()
    assert deflection.query == "where is my parcel" and Ticket.objects.count() == 0


def test_it_searches_logs_and_escapes_the_query(client, publish):
    publish("Track your order", "tracking number")

    html = client.get("/kb/search/", {"q": "unicorn <script>x</script>"}).content.decode()
    client.get("/kb/search/", {"q": "tracking"})

    assert "<script>x</script>" not in html
    assert list(SearchLog.objects.order_by("id").values_list("result_count", flat=True)) == [0, 1]


def test_it_serves_agents_a_json_search_with_article_links(client, agent, publish):
    publish("Track your order", "tracking number")
    client.force_login(agent)

    response = client.get("/api/v1/kb/search/", {"q": "tracking"})

    assert response.status_code == 200
    result = response.json()["results"][0]
    assert result["title"] == "Track your order"
    assert result["url"].endswith("/kb/article/track-your-order/")
    assert SearchLog.objects.get().source == "agent"


def test_it_refuses_the_agent_search_to_customers(client, publish):
    assert client.get("/api/v1/kb/search/", {"q": "x"}).status_code in (401, 403)


def test_it_previews_articles_and_reports_unanswered_searches_in_the_admin(
    client, admin_user, publish
):
    article = publish("Track your order", "# Heading\n\n<script>bad()</script>")
    client.force_login(admin_user)
    client.get("/kb/search/", {"q": "unicorn"})

    change = client.get(f"/admin/knowledge_base/article/{article.pk}/change/").content.decode()
    report = client.get("/admin/knowledge_base/searchlog/no-results/").content.decode()

    assert "<h1>Heading</h1>" in change and "bad()" not in change.split("kb-preview")[1][:500]
    assert "unicorn" in report


def test_it_saves_articles_from_the_admin_through_the_service(client, admin_user, category):
    client.force_login(admin_user)

    response = client.post(
        "/admin/knowledge_base/article/add/",
        {
            "title": "New one",
            "slug": "new-one",
            "category": category.pk,
            "status": "published",
            "excerpt": "",
            "body": "Some **bold** text",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="new-one")
    assert "<strong>bold</strong>" in article.body_html
    assert article.revisions.get().editor == admin_user and article.author == admin_user


def test_it_seeds_the_demo_once(demo):
    from knowledge_base.demo import kb_demo_seed

    assert demo == 28 and kb_demo_seed() == 0
    assert Category.objects.count() == 5
    assert Article.objects.filter(status="published").count() == 25


def test_it_suggests_the_answer_on_the_web_form_without_padding(client, demo):
    # What /support/new/ shows while the subject is typed (htmx swaps this fragment in).
    response = client.get(
        "/support/suggest/", {"subject": "two factor authentication code"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert html.count("<li>") == 1, html
    assert "Set up two-step verification" in html and "<mark>" in html
    assert SearchLog.objects.get().result_count == 1
