"""The start page at `/`: the help centre and "contact us" for customers; agents who are
signed in go straight to their workspace."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from helpdesk.roles import is_agent
from knowledge_base import selectors as kb


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and is_agent(request.user):
        return redirect("tickets:queue")
    context = {"categories": kb.category_list(), "popular": kb.article_popular(limit=6)}
    return render(request, "portal/start.html", context)
