"""The agent workspace pages (/agent/): thin views over agent_selectors and services.

Every view requires an agent: anonymous visitors are sent to the login page, signed-in
users without the agent role get 403.
"""

from collections.abc import Callable
from copy import copy
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from channels_app.registry import reply_channel_choices
from helpdesk.lib.dates import datetime_parse
from helpdesk.roles import is_agent
from tickets.errors import TicketError
from tickets.models import AfterSend, Channel, Customer, Status, Team, Ticket
from tickets.selectors import InvalidCursor, ticket_for_agent
from tickets.services import NewFile, reply_channel_default
from tickets.sla.selectors import sla_state
from tickets.visibility import customer_visible_or_none, tickets_visible_to
from tickets.workspace import kb
from tickets.workspace import selectors as sel
from tickets.workspace.forms import BulkForm, QueueForm, ReplyForm, ReplyKind
from tickets.workspace.macros import macro_changes, macro_render
from tickets.workspace.presence import presence_list
from tickets.workspace.search_selectors import customer_label
from tickets.workspace.selectors import ALL_VIEW
from tickets.workspace.services import (
    BULK_ACTIONS,
    agent_preference_set,
    reply_send,
    ticket_bulk_update,
    ticket_read_mark,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def agent_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise PermissionDenied("The agent workspace is for agents. Ask an admin for access.")
        return view(request, *args, **kwargs)

    return wrapper


def ticket_or_404(request: HttpRequest, number: int) -> Ticket:
    """The ticket by number, if the agent may see it; else a 404 (never a 403, so numbers
    outside their scope cannot be probed)."""
    ticket = ticket_for_agent(user=request.user, number=number)
    if ticket is None:
        raise Http404(f"There is no ticket #{number}.")
    return ticket


def customer_or_404(request: HttpRequest, customer_id: int) -> Customer:
    """The customer, if the agent may see them; else a 404, as for tickets."""
    customer = customer_visible_or_none(request.user, customer_id)
    if customer is None:
        raise Http404(f"There is no customer {customer_id}.")
    return customer


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if ok else fallback


@agent_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueForm(request.GET)
    now = timezone.now()
    team_ids = sel.agent_team_ids(user=request.user)
    choice = form.choice(user=request.user, team_ids=team_ids, now=now)
    try:
        found = sel.queue_page(choice=choice, user=request.user)
    except InvalidCursor as exc:
        messages.error(request, str(exc))
        found = sel.QUEUE_PAGE_EMPTY
    context = {
        "page": found.page,
        "rows": found.rows,
        **_queue_context(request, form, choice, team_ids=team_ids, now=now),
    }
    htmx = getattr(request, "htmx", None)  # set by django-htmx middleware
    if htmx is not None and bool(htmx) and htmx.target == "queue-live":
        return render(request, "agent/_queue_live.html", context)
    # Filters that do not parse (a date past 2999, a team that is no number) are the
    # client's error: the page says which, with the queue unfiltered beneath.
    return render(request, "agent/queue.html", context, status=200 if form.is_valid() else 400)


def _queue_context(
    request: HttpRequest, form: QueueForm, choice: sel.QueueChoice, *, team_ids: list[int], now: Any
) -> dict[str, Any]:
    """What the queue page shows around its rows: the views with counts, the pickers."""
    views = sel.queue_views(team_ids=team_ids)
    counts = sel.queue_counts(user=request.user, team_ids=team_ids, now=now)
    teams = list(Team.objects.order_by("name"))
    return {
        "form": form,
        "view": choice.view,
        "sort": choice.sort,
        "view_counts": [(v, sel.count_label(counts[v.key])) for v in views],
        # Hints for every queue whose counts this page shows: unteamed, each team, mine.
        "live_groups": " ".join(["noteam", "mine", *(f"team.{t.pk}" for t in teams)]),
        "agents": sel.agent_choices(),
        "teams": teams,
        "statuses": Status.choices,
        "bulk_actions": BULK_ACTIONS,
        **_filter_context(form, choice.view, request.user),
    }


# The filter fields the "Filters" button counts (the drawer on narrow screens).
_FILTER_FIELDS: tuple[str, ...] = ("q", "status", "priority", "channel", "assignee", "team")
_FILTER_FIELDS += ("tag", "customer", "customer_q", "created_after", "created_before")


def _filter_context(form: QueueForm, view: str, user: Any) -> dict[str, Any]:
    customer_text = form["customer_q"].value() or ""
    customer_id = form.cleaned_data.get("customer") if form.is_valid() else None
    if not customer_text and customer_id:
        customer_text = customer_label(customer_id=customer_id, user=user)
    return {
        "customer_text": customer_text,
        "active_filters": sum(1 for name in _FILTER_FIELDS if form.data.get(name)),
        # The top bar shows what it searched for on its own results page.
        "global_q": form["q"].value() if view == ALL_VIEW else "",
    }


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    back = _back(request, reverse("tickets:queue"))
    if not form.is_valid():
        messages.error(request, "Select at least one ticket and an action, then try again.")
        return redirect(back)
    if not request.user.has_perm("tickets.edit_ticket_fields"):
        messages.error(request, "Your role cannot change tickets in bulk.")
        return redirect(back)
    d = form.cleaned_data
    tickets = list(tickets_visible_to(request.user).filter(pk__in=d["ids"]).order_by("pk"))
    agent = None
    if d["action"] == "assign" and d["assignee"].isdigit():
        agent = sel.agent_choices().filter(pk=int(d["assignee"])).first()
    try:
        result = ticket_bulk_update(
            tickets=tickets, actor=request.user, action=d["action"], value=form.value(), agent=agent
        )
    except TicketError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, f"Updated {result.changed} ticket(s).")
    for error in result.errors:
        messages.error(request, error)
    return redirect(back)


@agent_required
@require_GET
def counts(request: HttpRequest) -> HttpResponse:
    team_ids = sel.agent_team_ids(user=request.user)
    views = sel.queue_views(team_ids=team_ids)
    counts = sel.queue_counts(user=request.user, team_ids=team_ids)
    labels = [(v, sel.count_label(counts[v.key])) for v in views]
    context = {"view_counts": labels, "view": request.GET.get("view")}
    return render(request, "agent/_counts.html", context)


def header_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """What the header fragment needs, without the timeline: live refreshes stay cheap."""
    header = sel.ticket_header_get(ticket=ticket)
    return {
        "t": header,
        "sla": sla_state(ticket=header),
        "agents": sel.agent_choices(),
        "teams": Team.objects.order_by("name"),
        "statuses": Status.choices,
        **extra,
    }


def ticket_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    page = sel.ticket_page_get(ticket=ticket, user=request.user)
    came_from = _came_from(request)
    return {
        "p": page,
        "t": page.ticket,
        "sla": sla_state(ticket=page.ticket),
        "ratings": sel.customer_ratings(customer_id=page.ticket.customer_id, user=request.user),
        "agents": sel.agent_choices(),
        "teams": Team.objects.order_by("name"),
        "statuses": Status.choices,
        "reply_channel": reply_channel_default(ticket=page.ticket),
        "reply_channels": reply_channel_choices(),
        "can_reply_public": request.user.has_perm("tickets.reply_public"),
        "presence": presence_list(ticket_id=page.ticket.pk),
        "synced_at": timezone.now().isoformat(),
        "came_from": came_from,
        "from_query": _from_query(came_from),
        "after_send": sel.agent_after_send(user=request.user),
        "after_send_choices": AfterSend.choices,
        **extra,
    }


# The queue view (and its filters and sort) a ticket page was opened from travels in the
# `from` query string: the queue's own query string, without its page cursor.
MAX_FROM = 2000


def _came_from(request: HttpRequest) -> str:
    raw = request.GET.get("from", "")[:MAX_FROM]
    query = QueryDict(raw, mutable=True)
    query.pop("cursor", None)
    return query.urlencode()


def _from_query(came_from: str) -> str:
    """`?from=...` for links that keep the page's queue view ("" for the default view)."""
    return f"?{urlencode({'from': came_from})}" if came_from else ""


def _queue_view(request: HttpRequest, came_from: str) -> sel.QueueChoice:
    """The queue page `came_from` names, as views.queue reads it."""
    return QueueForm(QueryDict(came_from)).choice(
        user=request.user, team_ids=sel.agent_team_ids(user=request.user), now=timezone.now()
    )


def _after_send(request: HttpRequest, handled: Ticket, after_send: str) -> HttpResponse:
    """Stay, open the view's next ticket after `handled` (as it was before the send), or
    go back to the view: the agent's preference."""
    came_from = _came_from(request)
    queue_url = reverse("tickets:queue") + (f"?{came_from}" if came_from else "")
    if after_send == AfterSend.STAY:
        return redirect(reverse("tickets:ticket", args=[handled.number]) + _from_query(came_from))
    if after_send == AfterSend.NEXT:
        choice = _queue_view(request, came_from)
        try:
            following = sel.queue_next_ticket(
                filters=choice.filters, sort=choice.sort, after=handled
            )
        except InvalidCursor:
            following = None
        if following is not None:
            url = reverse("tickets:ticket", args=[following.number]) + _from_query(came_from)
            return redirect(url)
        messages.info(request, "That was the last ticket in this view.")
    return redirect(queue_url)


@agent_required
@require_GET
def ticket_detail(request: HttpRequest, number: int) -> HttpResponse:
    ticket = ticket_or_404(request, number)
    ticket_read_mark(ticket=ticket, user=request.user)
    draft, changes = "", []
    macro_id = request.GET.get("macro", "")
    if macro_id.isdigit():
        macro = sel.macro_get_for(user=request.user, macro_id=int(macro_id))
        if macro is not None:
            try:
                draft = macro_render(macro=macro, ticket=ticket, agent=request.user)
                changes = macro_changes(macro=macro)
            except TicketError as exc:
                messages.error(request, exc.message)
                macro_id = ""
    context = ticket_context(
        request, ticket, draft=draft, draft_macro=macro_id, draft_changes=changes
    )
    return render(request, "agent/ticket.html", context)


@agent_required
@require_GET
def ticket_timeline(request: HttpRequest, number: int) -> HttpResponse:
    """Items since the page's last sync (resync after reconnect), or the header."""
    ticket = ticket_or_404(request, number)
    ticket_read_mark(ticket=ticket, user=request.user)
    try:
        since = datetime_parse(request.GET.get("since", "")) or ticket.created_at
    except ValueError:  # well-formed but impossible (month 13): resync from the start
        since = ticket.created_at
    items = sel.ticket_timeline_since(ticket=ticket, since=since)
    response = render(request, "agent/_timeline_items.html", {"items": items, "t": ticket})
    response["X-Synced-At"] = timezone.now().isoformat()
    return response


@agent_required
@require_GET
def ticket_header(request: HttpRequest, number: int) -> HttpResponse:
    ticket = ticket_or_404(request, number)
    return render(request, "agent/_ticket_header.html", header_context(request, ticket))


@agent_required
@require_POST
def ticket_reply(request: HttpRequest, number: int) -> HttpResponse:
    ticket = ticket_or_404(request, number)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reply form was incomplete. Check it and send again.")
        return redirect(reverse("tickets:ticket", args=[number]) + _from_query(_came_from(request)))
    d = form.cleaned_data
    files = request.FILES.getlist("attachments")
    refused = _reply_refused(request, ticket, d, files)
    if refused is not None:
        return refused
    before = copy(ticket)  # where it stood in the view: the send moves it
    try:
        _reply_send(request, ticket, d, files)
    except TicketError as exc:
        return _composer_error(request, ticket, d, exc.message)
    messages.success(request, "Note added." if d["kind"] == ReplyKind.NOTE else "Reply sent.")
    return _after_send(request, before, _after_send_choice(request, d))


def _reply_refused(
    request: HttpRequest, ticket: Ticket, d: dict[str, Any], files: list[UploadedFile]
) -> HttpResponse | None:
    """The composer again, draft intact, when this send may not go out as it is."""
    if d["kind"] != ReplyKind.NOTE and not request.user.has_perm("tickets.reply_public"):
        error = "Your role adds internal notes only: send this as a note."
        return _composer_error(request, ticket, d, error)
    if sum(f.size or 0 for f in files) > MAX_UPLOAD_BYTES:
        return _composer_error(request, ticket, d, "Attachments exceed 20 MB. Send fewer.")
    colliding = sel.messages_colliding(
        ticket=ticket, user=request.user, after_id=d["last_message_id"] or 0
    )
    if colliding and not d["confirm_collision"]:
        note = "New messages arrived while you wrote. Read them, then send again to confirm."
        return _composer_error(request, ticket, d, note, colliding=colliding)
    return None


def _after_send_choice(request: HttpRequest, d: dict[str, Any]) -> str:
    """The choice next to the send buttons, remembered when it changed; else the stored
    one. A live chat goes on after a message: only a status ends it."""
    if d["channel"] == Channel.CHAT and not d["then"]:
        return AfterSend.STAY
    stored = sel.agent_after_send(user=request.user)
    chosen = d["after_send"]
    if chosen and chosen != stored:
        agent_preference_set(user=request.user, after_send=chosen)
    return chosen or stored


def _reply_send(
    request: HttpRequest, ticket: Ticket, d: dict[str, Any], files: list[UploadedFile]
) -> None:
    macro = sel.macro_get_for(user=request.user, macro_id=d["macro"]) if d["macro"] else None
    reply_send(
        ticket=ticket,
        author=request.user,
        body_text=d["body"],
        is_internal=d["kind"] == ReplyKind.NOTE,
        channel=d["channel"] or None,
        attachments=[
            NewFile(
                filename=f.name or "attachment",
                content_type=f.content_type or "",
                content=f.read(),
            )
            for f in files
        ],
        set_status=d["then"] or None,
        macro=macro,
    )


def _composer_error(
    request: HttpRequest, ticket: Ticket, d: dict[str, Any], error: str, colliding: Any = ()
) -> HttpResponse:
    """Show the page again with the draft intact: a refused send loses nothing."""
    macro = sel.macro_get_for(user=request.user, macro_id=d["macro"]) if d.get("macro") else None
    context = ticket_context(
        request,
        ticket,
        draft=d.get("body", ""),
        draft_kind=d.get("kind", ReplyKind.REPLY),
        draft_macro=macro.pk if macro else "",
        draft_changes=macro_changes(macro=macro) if macro else [],
        composer_error=error,
        colliding=colliding,
    )
    return render(request, "agent/ticket.html", context, status=409 if colliding else 400)


@agent_required
@require_GET
def macro_preview(request: HttpRequest, number: int, macro_id: int) -> JsonResponse:
    ticket = ticket_or_404(request, number)
    macro = sel.macro_get_for(user=request.user, macro_id=macro_id)
    if macro is None:
        return JsonResponse({"error": "That macro does not exist or is not yours."}, status=404)
    try:
        body = macro_render(macro=macro, ticket=ticket, agent=request.user)
    except TicketError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"macro": macro.pk, "body": body, "changes": macro_changes(macro=macro)})


@agent_required
@require_GET
def kb_search(request: HttpRequest) -> HttpResponse:
    results = kb.kb_search(query=request.GET.get("q", ""))
    return render(request, "agent/_kb_results.html", {"results": results})
