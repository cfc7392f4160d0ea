"""Knowledge base reads: search, the public pages' lists, the admin report."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from helpdesk.lib.cursors import pk_cursor, pk_from_cursor
from helpdesk.lib.urls import absolute_url
from knowledge_base.errors import KbError, KbErrorCode
from knowledge_base.models import Article, ArticleStatus, Category, SearchLog
from knowledge_base.search_sqlite import available as search_sqlite_available
from knowledge_base.search_sqlite import sqlite_search
from knowledge_base.services import search_config

MAX_QUERY = 200
MAX_WORDS = 12
MAX_RESULTS = 50
HEADLINE_SOURCE_CHARS = 4000
# Below this, a trigram match is noise rather than a typo.
TRIGRAM_MIN_SIMILARITY = 0.5
# Highlight markers in SearchHeadline output. Control characters never occur in indexed
# text (services strip them), so after escaping the snippet they can only be ours.
_HL_START, _HL_STOP = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ArticleHit:
    article_id: int
    title: str
    slug: str
    url: str
    category_name: str
    excerpt: str
    snippet: SafeString  # escaped text with <mark> around the matched words
    rank: float


def _words(query: str) -> list[str]:
    return _WORD.findall(query.lower())[:MAX_WORDS]


def _published() -> QuerySet[Article]:
    return Article.objects.filter(status=ArticleStatus.PUBLISHED)


def _snippet(headline: str) -> SafeString:
    # Escape everything, then turn only our markers into <mark>: the body cannot inject.
    safe = escape(headline).replace(_HL_START, "<mark>").replace(_HL_STOP, "</mark>")
    return mark_safe(safe)  # noqa: S308 (escaped above)


def _hits(
    ids_and_ranks: list[tuple[int, float]],
    query: SearchQuery | None,
    snippets: dict[int, str] | None = None,
) -> list[ArticleHit]:
    """Load the ranked articles (one query), with a highlighted snippet for each: the
    PostgreSQL headline of `query`, or the given `snippets` (SQLite's FTS5 fragments)."""
    if not ids_and_ranks:
        return []
    # Only what a hit shows: the bodies stay in the database (the headline reads them
    # there), which keeps ten wide rows off the wire.
    qs = (
        Article.objects.filter(pk__in=[pk for pk, _ in ids_and_ranks])
        .select_related("category")
        .only("pk", "title", "slug", "excerpt", "category__name")
    )
    if query is not None:
        qs = qs.annotate(
            # Bounded: a snippet never costs more than the first few pages of text.
            headline=SearchHeadline(
                Substr("body_text", 1, HEADLINE_SOURCE_CHARS),
                query,
                config=search_config(),
                start_sel=_HL_START,
                stop_sel=_HL_STOP,
                max_words=32,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        )
    by_pk = {article.pk: article for article in qs}
    hits = []
    for pk, rank in ids_and_ranks:
        article = by_pk.get(pk)
        if article is None:
            continue
        headline = getattr(article, "headline", "") or (snippets or {}).get(pk) or article.excerpt
        hits.append(
            ArticleHit(
                article_id=article.pk,
                title=article.title,
                slug=article.slug,
                url=article.get_absolute_url(),
                category_name=article.category.name,
                excerpt=article.excerpt,
                snippet=_snippet(headline),
                rank=float(rank),
            )
        )
    return hits


def _ranked(query: SearchQuery, limit: int) -> list[tuple[int, float]]:
    # Ranking reads only the stored vector (GIN index for the match); snippets are
    # computed afterwards for the few rows kept, as ts_headline is the expensive part.
    rows = (
        _published()
        .filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query, normalization=1))
        .order_by("-rank", "-view_count", "id")
        .values_list("pk", "rank")[:limit]
    )
    return list(rows)


def _known_words(words: list[str], config: str) -> list[str]:
    """The query words some published article contains, in one round trip (each test is
    a GIN index probe). Stop words and words no article has are dropped."""
    probes = ", ".join(
        "EXISTS (SELECT 1 FROM knowledge_base_article WHERE status = 'published' "
        "AND search_vector @@ plainto_tsquery(%s::regconfig, %s))"
        for _ in words
    )
    params: list[str] = []
    for word in words:
        params += [config, word]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {probes}", params)
        found = cursor.fetchone()
    return [word for word, hit in zip(words, found, strict=True) if hit]


def _trigram_ranked(query: str, limit: int) -> list[tuple[int, float]]:
    # Titles only: they carry the words people mistype in a search box, and comparing
    # whole excerpts cost several times more for few extra hits. `title %> query` uses
    # the trigram GIN index; its threshold is a setting, set for this transaction only.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(TRIGRAM_MIN_SIMILARITY)],
        )
        rows = (
            _published()
            .filter(title__trigram_word_similar=query)
            .annotate(similarity=TrigramWordSimilarity(query, "title"))
            .order_by("-similarity", "-view_count", "id")
            .values_list("pk", "similarity")[:limit]
        )
        return list(rows)


def _postgres_search(query: str, words: list[str], limit: int) -> list[ArticleHit]:
    config = search_config()
    # 1. Every term (web search syntax: "quoted phrases", -exclusions, or).
    strict = SearchQuery(query, search_type="websearch", config=config)
    ranked = _ranked(strict, limit)
    if ranked:
        return _hits(ranked, strict)
    # 2. Every term that some article has, as plain words: questions carry words no
    # article uses, and a quoted phrase may match as words where it did not as a phrase.
    known = _known_words(words, config)
    if known:
        narrowed = SearchQuery(" ".join(known), search_type="plain", config=config)
        ranked = _ranked(narrowed, limit)
        if ranked:
            return _hits(ranked, narrowed)
    # 3. Any known term, ranked by how many match and where.
    if len(known) > 1:
        loose = reduce(or_, (SearchQuery(w, search_type="plain", config=config) for w in known))
        ranked = _ranked(loose, limit)
        if ranked:
            return _hits(ranked, loose)
    # 4. Typos: trigram similarity of the query against titles.
    return _hits(_trigram_ranked(query, limit), None)


def _sqlite_search(query: str, limit: int) -> list[ArticleHit]:
    ranked = sqlite_search(query=query, limit=limit, marks=(_HL_START, _HL_STOP))
    snippets = {row.article_id: row.snippet for row in ranked if row.snippet}
    return _hits([(row.article_id, row.rank) for row in ranked], None, snippets)


def _substring_search(words: list[str], limit: int) -> list[ArticleHit]:
    """SQLite without FTS5: any word in the title, excerpt or body."""
    words = [word for word in words if len(word) > 2] or words
    match = reduce(
        or_,
        (
            Q(title__icontains=w) | Q(excerpt__icontains=w) | Q(body_text__icontains=w)
            for w in words
        ),
    )
    title_match = reduce(or_, (Q(title__icontains=w) for w in words))
    rows = (
        _published()
        .filter(match)
        .annotate(in_title=Count("pk", filter=title_match))
        .order_by("-in_title", "-view_count", "id")
        .values_list("pk", "in_title")[:limit]
    )
    return _hits([(pk, float(score)) for pk, score in rows], None)


def kb_search(*, query: str, limit: int = 10) -> list[ArticleHit]:
    """Published articles matching `query`, best first, with highlighted snippets.

    Full-text first; when that finds nothing, trigram similarity catches typos. At most
    three queries on PostgreSQL, two when full-text matches; on SQLite the same steps run
    on FTS5 tables (knowledge_base.search_sqlite).
    """
    query = query.strip()[:MAX_QUERY]
    words = _words(query)
    if not words:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    if connection.vendor == "postgresql":
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            # The planner prices `search_vector @@ query` per row far too low, so on a few
            # thousand articles it walks the table (or a btree index) and detoasts every
            # vector (40-100 ms at 10,000) instead of a bitmap scan of the GIN indexes
            # (a few ms). Steer it for these queries only, then put the settings back so
            # a caller's transaction plans as before.
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
                " set_config('enable_seqscan', 'off', true),"
                " set_config('enable_indexscan', 'off', true)"
            )
            seqscan, indexscan = cursor.fetchone()[:2]
            try:
                return _postgres_search(query, words, limit)
            finally:
                cursor.execute(
                    "SELECT set_config('enable_seqscan', %s, true),"
                    " set_config('enable_indexscan', %s, true)",
                    [seqscan, indexscan],
                )
    if search_sqlite_available():
        return _sqlite_search(query, limit)
    return _substring_search(words, limit)


def category_list() -> list[Category]:
    """Categories with their number of published articles (one query)."""
    return list(
        Category.objects.annotate(
            published_count=Count("articles", filter=Q(articles__status=ArticleStatus.PUBLISHED))
        ).order_by("position", "name", "id")
    )


def article_popular(*, limit: int = 8) -> list[Article]:
    return list(
        _published().select_related("category").order_by("-view_count", "id")[: max(1, limit)]
    )


def category_articles(*, category: Category, limit: int = 200) -> list[Article]:
    return list(
        _published()
        .filter(category=category)
        .order_by("-view_count", "title", "id")
        .only("title", "slug", "excerpt", "category_id")[:limit]
    )


def article_get_published(*, slug: str) -> Article | None:
    return _published().select_related("category").filter(slug=slug).first()


def article_related(*, article: Article, limit: int = 5) -> list[Article]:
    """Other published articles of the same category, most read first."""
    return list(
        _published()
        .filter(category_id=article.category_id)
        .exclude(pk=article.pk)
        .order_by("-view_count", "id")
        .only("title", "slug", "category_id")[:limit]
    )


@dataclass(frozen=True)
class UnansweredSearch:
    query: str
    searches: int
    last_searched_at: datetime


def search_no_results_report(*, days: int = 30, limit: int = 100) -> list[UnansweredSearch]:
    """What customers looked for and did not find, most frequent first."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        SearchLog.objects.filter(result_count=0, created_at__gte=since)
        .values("normalized")
        .annotate(searches=Count("id"), last=Max("created_at"))
        .order_by("-searches", "-last")[:limit]
    )
    return [
        UnansweredSearch(
            query=row["normalized"], searches=row["searches"], last_searched_at=row["last"]
        )
        for row in rows
    ]


def kb_search_for_composer(*, query: str, limit: int) -> list[dict[str, str]]:
    """What the agent composer inserts (tickets/workspace/kb.py): published articles with
    absolute links, since the reply leaves the site."""
    return [
        {"title": hit.title, "url": absolute_url(hit.url), "excerpt": hit.excerpt}
        for hit in kb_search(query=query, limit=limit)
    ]


@dataclass(frozen=True)
class ArticlePage:
    items: list[Article]
    next_cursor: str | None


def articles_readable(*, drafts: bool) -> QuerySet[Article]:
    """Published articles; with `drafts` (someone who may edit the help centre) all."""
    return Article.objects.all() if drafts else _published()


def article_list(
    *,
    drafts: bool,
    status: str | None = None,
    category_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ArticlePage:
    """Articles newest first, keyset-paginated on the primary key (a page never shifts
    when articles are added); one query with their categories."""
    qs = articles_readable(drafts=drafts)
    if status is not None:
        qs = qs.filter(status=status)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    if cursor:
        try:
            qs = qs.filter(pk__lt=pk_from_cursor("article", cursor))
        except ValueError as exc:
            raise KbError(
                KbErrorCode.INVALID_CURSOR,
                "That page link is no longer valid. Start from the first page.",
            ) from exc
    items = list(qs.select_related("category").order_by("-pk")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return ArticlePage(
        items=items, next_cursor=pk_cursor("article", items[-1].pk) if more and items else None
    )
