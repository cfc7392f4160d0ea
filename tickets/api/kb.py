"""The knowledge base: categories and articles to read (`kb:read`: published articles
only) and to write (`kb:write`: create, update, publish, unpublish), and search for the
reply box. Writing also needs the help centre's permissions of the acting agent."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.lib.urls import absolute_url
from knowledge_base.models import Article, ArticleStatus, Category, SearchSource
from knowledge_base.selectors import article_list, articles_readable, category_list, kb_search
from knowledge_base.services import (
    article_create,
    article_save,
    category_create,
    category_update,
    search_log_record,
)
from tickets.api.filters import PageInput
from tickets.api.permissions import ApiView, require_perm
from tickets.integrations.models import ApiToken

_CATEGORY_EXAMPLE = {
    "id": 2,
    "name": "Billing",
    "slug": "billing",
    "description": "Invoices and refunds",
    "position": 0,
    "published_count": 12,
}
_ARTICLE_EXAMPLE = {
    "id": 7,
    "title": "How refunds work",
    "slug": "how-refunds-work",
    "category": {"id": 2, "slug": "billing", "name": "Billing"},
    "excerpt": "Refunds reach your card in 3-5 working days.",
    "body": "Refunds reach your card in **3-5 working days**.",
    "body_html": "<p>Refunds reach your card in <strong>3-5 working days</strong>.</p>",
    "status": "published",
    "url": "https://desk.example.com/kb/article/how-refunds-work/",
    "published_at": "2026-03-01T10:00:00Z",
    "updated_at": "2026-03-01T10:00:00Z",
}


def _may_edit(request: Request) -> bool:
    """Drafts are shown to those who could publish them: an agent with the help centre's
    change permission, through a token only with `kb:write`."""
    token = request.auth
    if isinstance(token, ApiToken) and "kb:write" not in token.scopes:
        return False
    return bool(request.user.has_perm("knowledge_base.change_article"))


def _category(value: int) -> Category:
    found = Category.objects.filter(pk=value).first()
    if found is None:
        raise serializers.ValidationError(f"There is no category {value}.")
    return found


class CategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    position = serializers.IntegerField()
    published_count = serializers.IntegerField(required=False)


class ArticleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    category = serializers.SerializerMethodField()
    excerpt = serializers.CharField()
    body = serializers.CharField(help_text="Markdown, as written.")
    body_html = serializers.CharField(help_text="Rendered and sanitized.")
    status = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The article in the help centre.")
    published_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()

    def get_category(self, article: Article) -> dict[str, Any]:
        category = article.category
        return {"id": category.pk, "slug": category.slug, "name": category.name}

    def get_url(self, article: Article) -> str:
        return absolute_url(article.get_absolute_url())


class ArticleInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    category = serializers.IntegerField(help_text="category id")
    body = serializers.CharField(max_length=200_000, help_text="Markdown")
    excerpt = serializers.CharField(max_length=300, required=False, allow_blank=True)
    slug = serializers.SlugField(max_length=200, required=False, help_text="default: from title")
    status = serializers.ChoiceField(choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)

    def validate_category(self, value: int) -> Category:
        return _category(value)


class ArticleUpdateInput(ArticleInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class CategoryInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    position = serializers.IntegerField(min_value=0, required=False, default=0)


class CategoryListApi(ApiView):
    required_scopes = {"GET": "kb:read", "POST": "kb:write"}

    @extend_schema(
        summary="List categories",
        operation_id="v1_kb_categories_list",
        description="Every category, in the help centre's order, with its number of "
        "published articles.",
        responses=inline_serializer("CategoryList", {"results": CategoryOutput(many=True)}),
        examples=[
            OpenApiExample(
                "The categories", value={"results": [_CATEGORY_EXAMPLE]}, response_only=True
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response({"results": CategoryOutput(category_list(), many=True).data})

    @extend_schema(
        summary="Create a category",
        request=CategoryInput,
        responses={201: CategoryOutput},
        examples=[
            OpenApiExample(
                "Billing",
                value={"name": "Billing", "description": "Invoices and refunds"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        require_perm(request, "knowledge_base.add_category", "adding help centre categories")
        params = CategoryInput(data=request.data)
        params.is_valid(raise_exception=True)
        category = category_create(**params.validated_data)
        return Response(CategoryOutput(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailApi(ApiView):
    required_scopes = {"GET": "kb:read", "PATCH": "kb:write"}

    @extend_schema(
        summary="Read a category",
        responses=CategoryOutput,
        examples=[OpenApiExample("The category", value=_CATEGORY_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, category_id: int) -> Response:
        return Response(CategoryOutput(_category_or_404(category_id)).data)

    @extend_schema(
        summary="Change a category",
        request=inline_serializer(
            "CategoryUpdate",
            {
                "name": serializers.CharField(required=False),
                "description": serializers.CharField(required=False, allow_blank=True),
                "position": serializers.IntegerField(required=False, min_value=0),
            },
        ),
        responses=CategoryOutput,
        examples=[
            OpenApiExample("A new position", value={"position": 1}, request_only=True),
            OpenApiExample(
                "The category", value={**_CATEGORY_EXAMPLE, "position": 1}, response_only=True
            ),
        ],
    )
    def patch(self, request: Request, category_id: int) -> Response:
        category = _category_or_404(category_id)
        require_perm(request, "knowledge_base.change_category", "editing help centre categories")
        params = CategoryInput(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        category = category_update(category=category, **params.validated_data)
        return Response(CategoryOutput(category).data)


def _category_or_404(category_id: int) -> Category:
    found = Category.objects.filter(pk=category_id).first()
    if found is None:
        raise Http404(f"There is no category {category_id}.")
    return found


def _article_or_404(request: Request, article_id: int) -> Article:
    found = (
        articles_readable(drafts=_may_edit(request))
        .select_related("category")
        .filter(pk=article_id)
        .first()
    )
    if found is None:
        raise Http404(f"There is no article {article_id}.")
    return found


class ArticleListInput(PageInput):
    category = serializers.IntegerField(required=False, help_text="category id")
    status = serializers.ChoiceField(
        choices=ArticleStatus.choices,
        required=False,
        help_text="`draft` only for those who may edit the help centre",
    )


class ArticleListApi(ApiView):
    required_scopes = {"GET": "kb:read", "POST": "kb:write"}

    @extend_schema(
        summary="List articles",
        operation_id="v1_kb_articles_list",
        description="Published articles newest first (drafts too for those who may edit the "
        "help centre); pass `next_cursor` as `cursor` for the next page.",
        parameters=[ArticleListInput],
        responses=inline_serializer(
            "ArticlePage",
            {
                "results": ArticleOutput(many=True),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [_ARTICLE_EXAMPLE], "next_cursor": None},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        params = ArticleListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        d = params.validated_data
        page = article_list(
            drafts=_may_edit(request),
            status=d.get("status"),
            category_id=d.get("category"),
            cursor=d.get("cursor"),
            limit=d["limit"],
        )
        return Response(
            {"results": ArticleOutput(page.items, many=True).data, "next_cursor": page.next_cursor}
        )

    @extend_schema(
        summary="Create an article",
        request=ArticleInput,
        responses={201: ArticleOutput},
        examples=[
            OpenApiExample(
                "A draft",
                value={
                    "title": "How refunds work",
                    "category": 2,
                    "body": "Refunds reach your card in **3-5 working days**.",
                },
                request_only=True,
            ),
            OpenApiExample("The article", value=_ARTICLE_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        require_perm(request, "knowledge_base.add_article", "writing help centre articles")
        params = ArticleInput(data=request.data)
        params.is_valid(raise_exception=True)
        article = article_create(author=request.user, **params.validated_data)
        return Response(ArticleOutput(article).data, status=status.HTTP_201_CREATED)


class ArticleDetailApi(ApiView):
    required_scopes = {"GET": "kb:read", "PATCH": "kb:write"}

    @extend_schema(
        summary="Read an article",
        description="A published article; a draft only for those who may edit the help "
        "centre (404 for anyone else).",
        responses=ArticleOutput,
        examples=[OpenApiExample("The article", value=_ARTICLE_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, article_id: int) -> Response:
        return Response(ArticleOutput(_article_or_404(request, article_id)).data)

    @extend_schema(
        summary="Change an article",
        description="Any of the fields; a revision is kept when the title or body changes.",
        request=ArticleUpdateInput,
        responses=ArticleOutput,
        examples=[
            OpenApiExample(
                "A new excerpt",
                value={"excerpt": "Refunds take 3-5 working days."},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, article_id: int) -> Response:
        article = _article_or_404(request, article_id)
        require_perm(request, "knowledge_base.change_article", "editing help centre articles")
        params = ArticleUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        for field, value in params.validated_data.items():
            setattr(article, field, value)
        return Response(ArticleOutput(article_save(article=article, editor=request.user)).data)


class _ArticleStatusApi(ApiView):
    required_scopes = {"POST": "kb:write"}
    target_status: str = ArticleStatus.PUBLISHED

    def post(self, request: Request, article_id: int) -> Response:
        article = _article_or_404(request, article_id)
        require_perm(request, "knowledge_base.change_article", "publishing help centre articles")
        article.status = self.target_status
        return Response(ArticleOutput(article_save(article=article, editor=request.user)).data)


@extend_schema(
    summary="Publish an article",
    description="It appears in the help centre and its search.",
    request=None,
    responses=ArticleOutput,
    examples=[OpenApiExample("The published article", value=_ARTICLE_EXAMPLE, response_only=True)],
)
class ArticlePublishApi(_ArticleStatusApi):
    target_status = ArticleStatus.PUBLISHED


@extend_schema(
    summary="Unpublish an article",
    description="Back to a draft: gone from the help centre, kept for editors.",
    request=None,
    responses=ArticleOutput,
    examples=[
        OpenApiExample(
            "The draft",
            value={**_ARTICLE_EXAMPLE, "status": "draft"},
            response_only=True,
        )
    ],
)
class ArticleUnpublishApi(_ArticleStatusApi):
    target_status = ArticleStatus.DRAFT


class ArticleHitOutput(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField(help_text="Absolute link to paste into a reply.")
    category = serializers.CharField()
    excerpt = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: escaped text with <mark> highlights.")


class KbSearchApi(ApiView):
    """Published articles matching words, for an agent's reply."""

    required_scopes = {"GET": "kb:read"}

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=200)
        limit = serializers.IntegerField(min_value=1, max_value=20, default=8)

    @extend_schema(
        summary="Search articles",
        parameters=[InputSerializer, OpenApiParameter("q", required=True)],
        responses=inline_serializer("ArticleHits", {"results": ArticleHitOutput(many=True)}),
        examples=[
            OpenApiExample(
                "One hit",
                value={
                    "results": [
                        {
                            "title": "How refunds work",
                            "url": "https://desk.example.com/kb/article/how-refunds-work/",
                            "category": "Billing",
                            "excerpt": "Refunds reach your card in 3-5 working days.",
                            "snippet": "<mark>Refunds</mark> reach your card in 3-5 working days",
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]
        hits = kb_search(query=query, limit=params.validated_data["limit"])
        search_log_record(query=query, result_count=len(hits), source=SearchSource.AGENT)
        results = [
            {
                "title": hit.title,
                "url": absolute_url(hit.url),
                "category": hit.category_name,
                "excerpt": hit.excerpt,
                "snippet": str(hit.snippet),
            }
            for hit in hits
        ]
        return Response({"results": ArticleHitOutput(results, many=True).data})
