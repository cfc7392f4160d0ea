"""Knowledge base: categories, articles and their revisions, search logs, deflections, and
the request types customers pick on the web form.

Data and invariants only: writes go through knowledge_base.services. The full-text and
trigram GIN indexes are created by a PostgreSQL-only migration step (0002), not declared
here, because the embedded SQLite default cannot build them; its FTS5 search tables come
from a SQLite-only step (0003).
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone

from tickets.models import Priority, Team


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True, help_text="Shown on the help centre home page.")
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb:category", kwargs={"slug": self.slug})


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles")
    excerpt = models.CharField(
        max_length=300, blank=True, help_text="One or two sentences: the search snippet."
    )
    body = models.TextField(help_text="Markdown.")
    # Derived from `body` on every save (services.article_render): markdown rendered and
    # sanitized with nh3, and its plain text for search and snippets.
    body_html = models.TextField(blank=True, editable=False)
    body_text = models.TextField(blank=True, editable=False)
    status = models.CharField(
        max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_articles",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    view_count = models.PositiveIntegerField(default=0, editable=False)
    helpful_yes = models.PositiveIntegerField(default=0, editable=False)
    helpful_no = models.PositiveIntegerField(default=0, editable=False)
    # PostgreSQL: kept current by knowledge_base.services.article_index_refresh after every
    # save. SQLite searches FTS5 tables kept current by triggers instead (migration 0003).
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["status", "category", "-view_count"], name="kb_article_cat"),
            models.Index(fields=["status", "-view_count", "id"], name="kb_article_popular"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb:article", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleRevision(models.Model):
    """The article as an editor saved it: who, when, what."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_revisions",
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["article", "-created_at"], name="kb_revision_article")]

    def __str__(self) -> str:
        return f"{self.title} ({self.created_at:%Y-%m-%d %H:%M})"


class SearchSource(models.TextChoices):
    KB = "kb", "Help centre search"
    SUGGEST = "suggest", "Web form suggestions"
    AGENT = "agent", "Agent reply box"


class SearchLog(models.Model):
    query = models.CharField(max_length=200)
    # Lowercased, whitespace-collapsed: what the "no results" report groups on.
    normalized = models.CharField(max_length=200, db_index=True)
    result_count = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=SearchSource.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["result_count", "-created_at"], name="kb_searchlog_results"),
        ]

    def __str__(self) -> str:
        return f"“{self.query}” ({self.result_count})"


class Deflection(models.Model):
    """A customer about to write in said an article answered their question."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    query = models.CharField(max_length=255, blank=True, help_text="What they were typing.")
    # A hash of the browser session, so one session counts once per article.
    session_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "session_hash"], name="kb_deflection_once_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"Deflected by {self.article}"


class SupportCategory(models.Model):
    """A request type customers choose on the web form; routes the ticket."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_categories",
        help_text="Tickets of this type go to this team.",
    )
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "support request type"
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name
