"""The workspace's search: the top bar (everywhere, a number opens its ticket) and its
results as you type, and the queue's customer type-ahead."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from tickets.search import ticket_number
from tickets.visibility import ticket_visible_or_none
from tickets.workspace.search_selectors import customer_options, ticket_suggestions
from tickets.workspace.views import agent_required

MAX_QUERY = 200


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY]


@agent_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """A ticket's number opens that ticket; anything else lists what it finds in every
    status (the queue's "All tickets")."""
    q = _query(request)
    number = ticket_number(q)
    if number is not None and ticket_visible_or_none(request.user, number) is not None:
        return redirect("tickets:ticket", number=number)
    query = urlencode({"view": "all", "q": q}) if q else "view=all"
    return redirect(f"{reverse('tickets:queue')}?{query}")


@agent_required
@require_GET
def search_suggest(request: HttpRequest) -> HttpResponse:
    q = _query(request)
    context = {"q": q, "hits": ticket_suggestions(text=q, user=request.user)}
    return render(request, "agent/_search_results.html", context)


@agent_required
@require_GET
def customer_suggest(request: HttpRequest) -> HttpResponse:
    options = customer_options(text=_query(request), user=request.user)
    return render(request, "agent/_customer_options.html", {"options": options})
