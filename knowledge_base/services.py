"""Every write to the knowledge base: one function per use case."""

import hashlib
import re
from typing import Any

import markdown  # type: ignore[import-untyped,unused-ignore]
from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from knowledge_base.errors import KbError, KbErrorCode
from knowledge_base.models import (
    Article,
    ArticleRevision,
    ArticleStatus,
    Category,
    Deflection,
    SearchLog,
)
from knowledge_base.search_sqlite import index_rebuild
from tickets.html import html_to_text, sanitize_html

# Control characters never belong in article text, and two of them mark search snippet
# highlights (knowledge_base.selectors), so they are stripped from what is indexed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPACES = re.compile(r"\s+")


def article_render(*, body: str) -> tuple[str, str]:
    """Markdown to (sanitized HTML, plain text). Raw HTML in the markdown goes through nh3
    like everything else, so an editor cannot publish a script."""
    rendered = markdown.markdown(_CONTROL.sub("", body), extensions=["extra", "sane_lists"])
    html = sanitize_html(rendered)
    return html, html_to_text(html)


def search_config() -> str:
    return str(getattr(settings, "HELPDESK_KB_SEARCH_CONFIG", "english"))


def article_index_refresh(*, articles: QuerySet[Article] | None = None) -> int:
    """Recompute the stored search vector (title A, excerpt B, body C) in one UPDATE.

    On SQLite, triggers keep the FTS5 tables current on every write; this rewrites the
    articles' rows there, a repair for an index out of step.
    """
    if connection.vendor == "sqlite":
        ids = None if articles is None else list(articles.values_list("pk", flat=True))
        index_rebuild(article_ids=ids)
        return Article.objects.count() if ids is None else len(ids)
    if connection.vendor != "postgresql":
        return 0
    config = search_config()
    qs = articles if articles is not None else Article.objects.all()
    return qs.update(
        search_vector=SearchVector("title", weight="A", config=config)
        + SearchVector("excerpt", weight="B", config=config)
        + SearchVector("body_text", weight="C", config=config)
    )


def _unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:180] or "article"
    slug, n = base, 2
    taken = Article.objects.all() if exclude_pk is None else Article.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def article_save(*, article: Article, editor: Any | None) -> Article:
    """Save an article created or edited by `editor`: render the body, stamp publication,
    record a revision when the title or body changed, refresh its search vector."""
    if article.status not in ArticleStatus.values:
        raise KbError(KbErrorCode.INVALID_STATUS, f"Unknown article status “{article.status}”.")
    if not article.title.strip():
        raise KbError(KbErrorCode.EMPTY_TITLE, "An article needs a title.")
    previous = Article.objects.filter(pk=article.pk).values("title", "body").first()
    article.title = article.title.strip()
    article.slug = article.slug or _unique_slug(article.title, exclude_pk=article.pk)
    article.body_html, article.body_text = article_render(body=article.body)
    article.excerpt = _SPACES.sub(" ", _CONTROL.sub("", article.excerpt)).strip()
    if not article.excerpt:
        article.excerpt = article.body_text[:297] + ("…" if len(article.body_text) > 297 else "")
    now = timezone.now()
    article.updated_at = now
    if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    if article.author_id is None and editor is not None:
        article.author = editor
    try:
        with transaction.atomic():
            article.save()
    except IntegrityError as exc:
        raise KbError(
            KbErrorCode.SLUG_TAKEN,
            f"Another article already uses the address “{article.slug}”. Pick another slug.",
        ) from exc
    if previous is None or (previous["title"], previous["body"]) != (article.title, article.body):
        ArticleRevision.objects.create(
            article=article, editor=editor, title=article.title, body=article.body, created_at=now
        )
    if connection.vendor == "postgresql":  # on SQLite the triggers have reindexed it
        article_index_refresh(articles=Article.objects.filter(pk=article.pk))
    return article


def article_create(
    *,
    title: str,
    category: Category,
    body: str,
    excerpt: str = "",
    status: str = ArticleStatus.DRAFT,
    slug: str = "",
    author: Any | None = None,
) -> Article:
    article = Article(
        title=title, slug=slug, category=category, body=body, excerpt=excerpt, status=status
    )
    return article_save(article=article, editor=author)


def category_create(*, name: str, description: str = "", position: int = 0) -> Category:
    if not name.strip():
        raise KbError(KbErrorCode.EMPTY_TITLE, "A category needs a name.")
    return Category.objects.create(
        name=name.strip(), slug=slugify(name)[:120], description=description, position=position
    )


def article_view_record(*, article: Article) -> None:
    # An F() update: concurrent views never lose counts and no row lock is held.
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


def session_hash(session_key: str) -> str:
    # Deflections keep a hash, not the session key itself, which would log a visitor in.
    return hashlib.sha256(f"{settings.SECRET_KEY}:{session_key}".encode()).hexdigest()


def article_vote(*, article: Article, helpful: bool, voted: set[int]) -> bool:
    """Count a "was this helpful?" vote unless this browser (its `voted` set, kept in the
    session by the caller) already voted on the article. True when counted."""
    if article.pk in voted or not article.is_published:
        return False
    field = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
    voted.add(article.pk)
    return True


def deflection_record(*, article: Article, query: str, session_key: str) -> Deflection:
    """Record that `article` answered a would-be ticket; once per browser session."""
    if not article.is_published:
        raise KbError(KbErrorCode.NOT_PUBLISHED, "That article is not published.")
    deflection, _ = Deflection.objects.get_or_create(
        article=article,
        session_hash=session_hash(session_key),
        defaults={"query": _SPACES.sub(" ", query).strip()[:255]},
    )
    return deflection


def search_log_record(*, query: str, result_count: int, source: str) -> SearchLog | None:
    cleaned = _SPACES.sub(" ", _CONTROL.sub("", query)).strip()[:200]
    if not cleaned:
        return None
    return SearchLog.objects.create(
        query=cleaned, normalized=cleaned.lower(), result_count=result_count, source=source
    )


def category_update(
    *,
    category: Category,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
) -> Category:
    """Change what is given; the slug, part of the category's address, stays."""
    fields = []
    if name is not None:
        if not name.strip():
            raise KbError(KbErrorCode.EMPTY_TITLE, "A category needs a name.")
        category.name = name.strip()
        fields.append("name")
    if description is not None:
        category.description = description
        fields.append("description")
    if position is not None:
        category.position = position
        fields.append("position")
    if fields:
        category.save(update_fields=fields)
    return category
