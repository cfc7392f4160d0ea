from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from knowledge_base.models import (
    Article,
    ArticleRevision,
    Category,
    Deflection,
    SearchLog,
    SupportCategory,
)
from knowledge_base.selectors import search_no_results_report
from knowledge_base.services import article_save


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    extra = 0
    can_delete = False
    fields = ("created_at", "editor", "title")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "category",
        "status",
        "view_count",
        "helpful_yes",
        "helpful_no",
        "updated_at",
    )
    list_filter = ("status", "category")
    search_fields = ("title", "excerpt", "body")
    list_select_related = ("category",)
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("preview", "author", "view_count", "helpful_yes", "helpful_no")
    fields = (
        "title",
        "slug",
        "category",
        "status",
        "excerpt",
        "body",
        "preview",
        "author",
        "view_count",
        "helpful_yes",
        "helpful_no",
    )
    inlines = [RevisionInline]

    @admin.display(description="Preview (as published, after saving)")
    def preview(self, obj: Article) -> SafeString:
        if not obj.pk:
            return mark_safe("<em>Save to see the rendered article.</em>")
        # body_html is nh3-sanitized when the article is saved (services.article_render).
        return format_html(
            '<div class="kb-preview" style="max-width:720px;border:1px solid #ddd;'
            'padding:12px;background:#fff">{}</div>',
            mark_safe(obj.body_html),  # noqa: S308 (sanitized on save)
        )

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        article_save(article=obj, editor=request.user)


class FoundFilter(admin.SimpleListFilter):
    title = "results"
    parameter_name = "found"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "No results"), ("yes", "Some results")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SearchLog]) -> QuerySet[SearchLog]:
        if self.value() == "no":
            return queryset.filter(result_count=0)
        if self.value() == "yes":
            return queryset.filter(result_count__gt=0)
        return queryset


@admin.register(SearchLog)
class SearchLogAdmin(admin.ModelAdmin):
    list_display = ("query", "result_count", "source", "created_at")
    list_filter = (FoundFilter, "source", "created_at")
    search_fields = ("normalized",)
    date_hierarchy = "created_at"
    change_list_template = "admin/knowledge_base/searchlog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "no-results/",
                self.admin_site.admin_view(self.no_results_view),
                name="knowledge_base_searchlog_no_results",
            )
        ]
        return custom + super().get_urls()

    def no_results_view(self, request: HttpRequest) -> HttpResponse:
        try:
            days = max(1, min(int(request.GET.get("days", 30)), 365))
        except ValueError:
            days = 30
        context = {
            **self.admin_site.each_context(request),
            "title": f"Searches with no results (last {days} days)",
            "rows": search_no_results_report(days=days),
            "days": days,
            "opts": self.model._meta,
            "changelist_url": reverse("admin:knowledge_base_searchlog_changelist"),
        }
        return TemplateResponse(request, "admin/knowledge_base/searchlog/no_results.html", context)


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ("article", "query", "created_at")
    list_select_related = ("article",)
    readonly_fields = ("article", "query", "session_hash", "created_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SupportCategory)
class SupportCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "priority", "position", "is_active")
    list_editable = ("position", "is_active")
    list_select_related = ("team",)
