import pytest

from knowledge_base.models import ArticleStatus, SearchLog
from knowledge_base.selectors import kb_search, search_no_results_report
from knowledge_base.services import search_log_record

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_it_ranks_title_matches_above_body_matches(publish):
    publish("Refund policy", "How refunds work.")
    publish("Returns", "Mentions a refund once in the body among many other words here.")

    assert kb_search(query="refund")[0].title == "Refund policy"


@pytest.mark.embedded
def test_it_never_returns_drafts(publish):
    publish("Secret draft about refunds", status=ArticleStatus.DRAFT)

    assert kb_search(query="refunds") == []


@pytest.mark.embedded
def test_it_falls_back_to_trigrams_for_typos(publish):
    publish("Reset your password", "Use the link.")

    assert [h.title for h in kb_search(query="pasword")] == ["Reset your password"]


@pytest.mark.embedded
def test_it_highlights_matches_in_an_escaped_snippet(publish):
    publish("Refunds", "Refund <script>alert(1)</script> arrives in 5 days.")

    snippet = str(kb_search(query="refund")[0].snippet)

    assert "<mark>" in snippet and "<script>" not in snippet


@pytest.mark.embedded
def test_it_ignores_empty_and_symbol_only_queries(publish):
    publish("Refunds")

    assert kb_search(query="   ") == [] and kb_search(query="!!! ???") == []
    assert kb_search(query="'; DROP TABLE x; --") == []  # parameters, and no hit


@pytest.mark.embedded
def test_it_reports_searches_without_results_most_frequent_first():
    for query, count in [("Lost Parcel", 0), ("lost parcel ", 0), ("refund", 3), ("x ray", 0)]:
        search_log_record(query=query, result_count=count, source="kb")

    report = search_no_results_report()

    assert [(r.query, r.searches) for r in report] == [("lost parcel", 2), ("x ray", 1)]
    assert SearchLog.objects.count() == 4


def test_it_searches_in_two_queries_however_many_articles_match(
    publish, pg, django_assert_num_queries
):
    # Two queries search; two more steer the planner to the GIN index and back.
    publish("Refund one", "refund")
    with django_assert_num_queries(4):
        assert len(kb_search(query="refund")) == 1
    for i in range(15):
        publish(f"Refund {i}", "refund")

    with django_assert_num_queries(4):
        assert len(kb_search(query="refund", limit=10)) == 10


@pytest.mark.embedded
def test_it_shows_the_home_page_in_constant_queries(
    client, publish, category, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    publish("One")
    with CaptureQueriesContext(connection) as few:
        client.get("/kb/")
    for i in range(12):
        publish(f"Article {i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/kb/")

    assert len(few.captured_queries) == len(many.captured_queries)


def test_it_leaves_the_callers_planner_settings_as_they_were(publish, pg):
    from django.db import connection

    publish("Refund one", "refund")
    kb_search(query="refund")
    kb_search(query="pasword")  # through the typo fallback too

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
        )
        assert cursor.fetchone() == ("on", "on")


@pytest.mark.embedded
def test_it_reads_web_search_syntax(publish):
    publish("Refund to your card", "Refunds go back to the card you paid with.")
    publish("Refund by bank transfer", "Refunds go to your bank account.")
    publish("Set up two-step verification", "Codes from an app.")

    assert [h.title for h in kb_search(query="refund -card")] == ["Refund by bank transfer"]
    assert [h.title for h in kb_search(query='"bank account"')] == ["Refund by bank transfer"]
    assert len(kb_search(query="card or transfer")) == 2
    assert [h.title for h in kb_search(query="two-step")] == ["Set up two-step verification"]
