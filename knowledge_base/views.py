"""The public help centre (/kb/). Thin: selectors read, services count votes and views."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from helpdesk.errors import DomainError
from knowledge_base import selectors
from knowledge_base.models import Category, SearchSource
from knowledge_base.services import (
    article_view_record,
    article_vote,
    deflection_record,
    search_log_record,
)

VOTES_KEY = "kb_votes"


@require_GET
def kb_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "knowledge_base/home.html",
        {"categories": selectors.category_list(), "popular": selectors.article_popular()},
    )


@require_GET
def kb_category(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    articles = selectors.category_articles(category=category)
    return render(
        request, "knowledge_base/category.html", {"category": category, "articles": articles}
    )


@require_GET
def kb_article(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_published(slug=slug)
    if article is None:
        raise Http404("There is no such article. It may have been moved or unpublished.")
    article_view_record(article=article)
    voted = article.pk in request.session.get(VOTES_KEY, [])
    context = {
        "article": article,
        "related": selectors.article_related(article=article),
        "voted": voted,
        # Arrived from the web form's suggestions: offer "this answered my question".
        "from_support": request.GET.get("from") == "support",
        "support_query": request.GET.get("q", "")[:255],
    }
    return render(request, "knowledge_base/article.html", context)


@require_POST
def kb_vote(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_published(slug=slug)
    if article is None:
        raise Http404("There is no such article.")
    voted = set(request.session.get(VOTES_KEY, []))
    if article_vote(article=article, helpful=request.POST.get("helpful") == "yes", voted=voted):
        request.session[VOTES_KEY] = sorted(voted)[-500:]
        messages.success(request, "Thanks for your feedback.")
    else:
        messages.info(request, "You already told us about this article. Thanks!")
    return redirect(article.get_absolute_url())


@require_POST
def kb_deflect(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_published(slug=slug)
    if article is None:
        raise Http404("There is no such article.")
    if not request.session.session_key:
        request.session.save()
    try:
        deflection_record(
            article=article,
            query=request.POST.get("q", ""),
            session_key=request.session.session_key or "",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(article.get_absolute_url())
    return render(request, "knowledge_base/deflected.html", {"article": article})


@require_GET
def kb_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    hits = selectors.kb_search(query=query, limit=20) if query else []
    if query:
        search_log_record(query=query, result_count=len(hits), source=SearchSource.KB)
    return render(request, "knowledge_base/search.html", {"query": query, "hits": hits})
