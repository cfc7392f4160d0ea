"""The web form (/support/) and the customer portal (/portal/). Thin: parse, call a
service or selector, render."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.errors import DomainError
from helpdesk.lib.downloads import file_download_response
from knowledge_base.models import SearchSource
from knowledge_base.selectors import kb_search
from knowledge_base.services import search_log_record
from tickets.models import Customer, SatisfactionRating, Status, Ticket
from tickets.portal import selectors
from tickets.portal.errors import PortalErrorCode
from tickets.portal.forms import LinkRequestForm, PortalReplyForm, RatingForm, WebRequestForm
from tickets.portal.ratelimit import RateLimit, client_ip, rate_limit_hit
from tickets.portal.services import (
    WebSubmitResult,
    portal_link_request,
    portal_reply_submit,
    portal_ticket_set_status,
    rating_changeable,
    satisfaction_rating_submit,
    web_request_submit,
)
from tickets.portal.sign_in import (
    portal_link_check,
    portal_sign_in,
    portal_sign_in_active,
    portal_sign_out,
)
from tickets.portal.tokens import (
    PortalLinkError,
    portal_link_lifetime,
    rating_token_make,
    rating_token_read,
)
from tickets.selectors import InvalidCursor, ticket_satisfaction

SESSION_KEY = "portal_access"
DONE_KEY = "support_done"


def too_many_requests(request: HttpRequest, limit: RateLimit) -> HttpResponse:
    response = render(
        request, "portal/too_many.html", {"minutes": limit.retry_after_minutes}, status=429
    )
    response["Retry-After"] = str(limit.retry_after)
    return response


def _limited(
    request: HttpRequest, scope: str, *, email: str = "", per_email: int = 0
) -> RateLimit | None:
    window = settings.HELPDESK_WEB_RATE_WINDOW
    checks = [
        rate_limit_hit(
            scope=f"{scope}:ip",
            key=client_ip(request.META),
            limit=settings.HELPDESK_WEB_RATE_PER_IP,
            window=window,
        )
    ]
    if email:
        checks.append(
            rate_limit_hit(scope=f"{scope}:email", key=email, limit=per_email, window=window)
        )
    blocked = [check for check in checks if not check.allowed]
    return max(blocked, key=lambda c: c.retry_after) if blocked else None


def _too_large(request: HttpRequest) -> HttpResponse | None:
    """Refuse a body bigger than every allowed file together before Django reads it."""
    limit = settings.HELPDESK_WEB_MAX_FILES * settings.HELPDESK_WEB_MAX_FILE_BYTES + 1024 * 1024
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= limit:
        return None
    context = {
        "max_files": settings.HELPDESK_WEB_MAX_FILES,
        "max_file_size": settings.HELPDESK_WEB_MAX_FILE_BYTES,
    }
    return render(request, "portal/too_large.html", context, status=413)


# --- web form ---------------------------------------------------------------------------


def _form_page(request: HttpRequest, form: WebRequestForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "had_files": bool(request.FILES),
        "max_files": settings.HELPDESK_WEB_MAX_FILES,
        "max_file_size": settings.HELPDESK_WEB_MAX_FILE_BYTES,
    }
    return render(request, "portal/support_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def support_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _support_submit(request)
    form = WebRequestForm(
        initial={"submission_id": uuid.uuid4().hex, "subject": request.GET.get("subject", "")}
    )
    return _form_page(request, form)


def _support_submit(request: HttpRequest) -> HttpResponse:
    refused = _too_large(request)
    if refused:
        return refused
    form = WebRequestForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    if form.is_bot:
        # Look like success so the bot learns nothing; nothing is stored.
        return render(request, "portal/support_thanks.html", {"number": None})
    email = form.cleaned_data["email"]
    blocked = _limited(request, "web", email=email, per_email=settings.HELPDESK_WEB_RATE_PER_EMAIL)
    if blocked:
        return too_many_requests(request, blocked)
    result = web_request_submit(request=form.web_request(client_ip=client_ip(request.META)))
    request.session[DONE_KEY] = {
        "number": result.ticket.number if result.ticket else None,
        "raw": result.raw_id,
        "email": email,
    }
    return redirect("portal:support-thanks")


@require_GET
def support_thanks(request: HttpRequest) -> HttpResponse:
    done = request.session.get(DONE_KEY)
    if not done:
        return redirect("portal:support-new")
    return render(request, "portal/support_thanks.html", done)


@require_GET
def support_suggest(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("subject", "") or request.GET.get("q", "")
    hits = kb_search(query=query, limit=5) if len(query.strip()) >= 3 else []
    if len(query.strip()) >= 3:
        search_log_record(query=query, result_count=len(hits), source=SearchSource.SUGGEST)
    htmx = bool(getattr(request, "htmx", False))
    template = "portal/_suggestions.html" if htmx else "portal/suggestions_page.html"
    return render(request, template, {"hits": hits, "query": query})


# --- portal -----------------------------------------------------------------------------


def _customer(request: HttpRequest) -> tuple[Customer, str] | None:
    access = request.session.get(SESSION_KEY)
    if not isinstance(access, dict) or not isinstance(access.get("s"), int):
        return None
    customer = selectors.customer_resolve(customer_id=int(access.get("c", 0)))
    if customer is None or not portal_sign_in_active(
        sign_in_id=access["s"], customer_id=int(access.get("c", 0))
    ):
        return None  # signed out here, elsewhere, or by an agent
    return customer, str(access.get("e", ""))


@dataclass(frozen=True)
class Visitor:
    """The signed-in customer and the address their link was sent to."""

    customer: Customer
    email: str


def _signed_in(view: Any) -> Any:
    """Views for a signed-in customer: they get the Visitor as `visitor`."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        found = _customer(request)
        if found is None:
            messages.info(
                request, "Enter your email address and we will send you a link to your requests."
            )
            return redirect("portal:home")
        visitor = Visitor(customer=found[0], email=found[1])
        return view(request, *args, visitor=visitor, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_http_methods(["GET", "POST"])
def portal_home(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if _customer(request) is not None:
            return redirect("portal:tickets")
        return render(request, "portal/home.html", {"form": LinkRequestForm()})
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/home.html", {"form": form}, status=400)
    email = form.cleaned_data["email"]
    blocked = _limited(
        request, "portal-link", email=email, per_email=settings.HELPDESK_PORTAL_LINK_RATE_PER_EMAIL
    )
    if blocked:
        return too_many_requests(request, blocked)
    portal_link_request(email=email)
    # The same answer whether or not we know the address.
    context = {"email": email, "link_lifetime": portal_link_lifetime()}
    return render(request, "portal/link_sent.html", context)


def _link_refused(request: HttpRequest, error: PortalLinkError) -> HttpResponse:
    context = {"form": LinkRequestForm(), "link_error": error.message}
    return render(request, "portal/home.html", context, status=400)


def _next_target(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    if target.startswith("/portal/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return reverse("portal:tickets")


@require_http_methods(["GET", "POST"])
def portal_login(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to continue, POST signs in: mail scanners that open every link in a
    message (GET) must not use up a link meant for its reader."""
    try:
        if request.method == "GET":
            access = portal_link_check(token=token)
            return render(request, "portal/sign_in.html", {"email": access.email})
        sign_in, access = portal_sign_in(token=token)
    except PortalLinkError as exc:
        if exc.code == PortalErrorCode.LINK_USED and _customer(request) is not None:
            return redirect(_next_target(request))  # this browser is signed in already
        return _link_refused(request, exc)
    request.session.cycle_key()  # a fresh session id: a planted one cannot ride the sign-in
    request.session[SESSION_KEY] = {"c": sign_in.customer_id, "e": access.email, "s": sign_in.pk}
    return redirect(_next_target(request))


@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    access = request.session.pop(SESSION_KEY, None)
    if isinstance(access, dict) and isinstance(access.get("s"), int):
        portal_sign_out(sign_in_id=access["s"])
    messages.info(request, "You are signed out.")
    return redirect("portal:home")


@require_GET
@_signed_in
def portal_tickets(request: HttpRequest, *, visitor: Visitor) -> HttpResponse:
    try:
        page = selectors.portal_ticket_list(
            customer_id=visitor.customer.pk, cursor=request.GET.get("cursor")
        )
    except InvalidCursor as exc:
        messages.error(request, str(exc))
        return redirect("portal:tickets")
    return render(request, "portal/tickets.html", {"page": page, "customer": visitor.customer})


def _ticket_or_404(visitor: Visitor, number: int) -> Ticket:
    ticket = selectors.portal_ticket_get(customer_id=visitor.customer.pk, number=number)
    if ticket is None:
        raise Http404("There is no such request in your account.")
    return ticket


def _ticket_page(
    request: HttpRequest, ticket: Ticket, reply_form: PortalReplyForm, status: int = 200
) -> HttpResponse:
    rating = ticket_satisfaction(ticket=ticket)
    rate_url = None
    if ticket.status in (Status.SOLVED, Status.CLOSED) and rating_changeable(rating):
        rate_url = reverse(
            "portal:rate",
            kwargs={
                "token": rating_token_make(ticket_id=ticket.pk, customer_id=ticket.customer_id)
            },
        )
    context = {
        "ticket": ticket,
        "messages_list": selectors.portal_ticket_messages(ticket=ticket),
        "form": reply_form,
        "rating": rating,
        "rate_url": rate_url,
        "can_solve": ticket.is_active,
        "can_reopen": ticket.status == Status.SOLVED,
    }
    return render(request, "portal/ticket.html", context, status=status)


@require_http_methods(["GET", "POST"])
@_signed_in
def portal_ticket(request: HttpRequest, number: int, *, visitor: Visitor) -> HttpResponse:
    ticket = _ticket_or_404(visitor, number)
    if ticket.number != number:  # merged into another of their requests
        return redirect("portal:ticket", number=ticket.number)
    if request.method == "POST":
        return _portal_reply(request, ticket, visitor)
    form = PortalReplyForm(initial={"submission_id": uuid.uuid4().hex})
    return _ticket_page(request, ticket, form)


def _portal_reply(request: HttpRequest, ticket: Ticket, visitor: Visitor) -> HttpResponse:
    refused = _too_large(request)
    if refused:
        return refused
    form = PortalReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _ticket_page(request, ticket, form, status=400)
    per_email = settings.HELPDESK_WEB_RATE_PER_EMAIL * 3
    blocked = _limited(request, "portal-reply", email=visitor.email, per_email=per_email)
    if blocked:
        return too_many_requests(request, blocked)
    result = portal_reply_submit(
        customer=visitor.customer,
        email=visitor.email,
        ticket=ticket,
        text=form.cleaned_data["body"],
        submission_id=form.cleaned_data["submission_id"],
        files=tuple(form.cleaned_data["attachments"]),
        client_ip=client_ip(request.META),
    )
    return _replied(request, ticket, result)


def _replied(request: HttpRequest, ticket: Ticket, result: WebSubmitResult) -> HttpResponse:
    """Say where the reply went, and show that request."""
    if result.ticket is None:
        messages.error(
            request,
            f"We stored your reply (reference W-{result.raw_id}) but could not add it to the "
            "request yet. Our team has been alerted and will add it.",
        )
    elif result.ticket.pk != ticket.pk:
        messages.success(
            request,
            f"This request was closed, so your reply opened a new one: #{result.ticket.number}.",
        )
        return redirect("portal:ticket", number=result.ticket.number)
    else:
        messages.success(request, "Your reply was sent.")
    return redirect("portal:ticket", number=ticket.number)


@require_POST
@_signed_in
def portal_ticket_status(request: HttpRequest, number: int, *, visitor: Visitor) -> HttpResponse:
    ticket = _ticket_or_404(visitor, number)
    try:
        portal_ticket_set_status(ticket=ticket, status=request.POST.get("status", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Marked as solved. Thank you!"
            if ticket.status == Status.SOLVED
            else "Reopened: we will get back to you.",
        )
    return redirect("portal:ticket", number=ticket.number)


@require_GET
@_signed_in
def portal_attachment(
    request: HttpRequest, attachment_id: int, *, visitor: Visitor
) -> HttpResponseBase:
    attachment = selectors.portal_attachment_get(
        customer_id=visitor.customer.pk, attachment_id=attachment_id
    )
    if attachment is None:
        raise Http404("There is no such file in your requests.")
    return file_download_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type
    )


@require_http_methods(["GET", "POST"])
def portal_rate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        access = rating_token_read(token)
    except PortalLinkError as exc:
        return render(request, "portal/rate.html", {"link_error": exc.message}, status=400)
    ticket = selectors.rating_ticket_get(ticket_id=access.ticket_id, customer_id=access.customer_id)
    if ticket is None:
        error = "We cannot find the request this rating link is for."
        return render(request, "portal/rate.html", {"link_error": error}, status=404)
    rating = ticket_satisfaction(ticket=ticket)
    if request.method == "POST":
        return _rate_submit(request, ticket, rating, customer_id=access.customer_id)
    form = RatingForm.for_rating(rating, score=request.GET.get("score"))
    return _rate_page(request, form, ticket, rating, changeable=rating_changeable(rating))


def _rate_page(
    request: HttpRequest,
    form: RatingForm,
    ticket: Ticket,
    rating: SatisfactionRating | None,
    *,
    changeable: bool,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "ticket": ticket, "rating": rating, "changeable": changeable}
    return render(request, "portal/rate.html", context, status=status)


def _rate_submit(
    request: HttpRequest, ticket: Ticket, rating: SatisfactionRating | None, *, customer_id: int
) -> HttpResponse:
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _rate_page(request, form, ticket, rating, changeable=True, status=400)
    try:
        rating = satisfaction_rating_submit(
            ticket=ticket,
            customer_id=customer_id,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _rate_page(request, form, ticket, rating, changeable=False, status=400)
    return render(request, "portal/rate_thanks.html", {"ticket": ticket, "rating": rating})
