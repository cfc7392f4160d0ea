"""Agent edits: ticket fields in place, ticket merge, customer edit/identities/merge."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tickets import services
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import IdentityKind, Team, Ticket
from tickets.portal.sign_in import portal_sign_out_everywhere
from tickets.visibility import customers_visible_to
from tickets.workspace import selectors as sel
from tickets.workspace.forms import CustomerForm, IdentityForm, MacroForm, TicketFieldForm
from tickets.workspace.services import macro_create, macro_delete
from tickets.workspace.views import agent_required, customer_or_404, header_context, ticket_or_404


def _apply_field(ticket: Ticket, field: str, value: str, actor: object) -> None:
    if field == "subject":
        services.ticket_set_subject(ticket=ticket, subject=value, actor=actor)
    elif field == "status":
        services.ticket_set_status(ticket=ticket, status=value, actor=actor)
    elif field == "priority":
        services.ticket_set_priority(ticket=ticket, priority=value, actor=actor)
    elif field == "assignee":
        agent = sel.agent_choices().filter(pk=int(value)).first() if value.isdigit() else None
        if value and agent is None:
            raise TicketError(TicketErrorCode.NOT_AN_AGENT, "Pick an agent from the list.")
        services.ticket_assign(ticket=ticket, agent=agent, actor=actor)
    elif field == "team":
        team = Team.objects.filter(pk=int(value)).first() if value.isdigit() else None
        services.ticket_set_team(ticket=ticket, team=team, actor=actor)
    elif field in ("tag_add", "tag_remove"):
        tags = [t for t in value.replace(",", " ").split() if t]
        key = "add" if field == "tag_add" else "remove"
        services.ticket_tags_change(ticket=ticket, actor=actor, **{key: tags})
    elif field == "follower_remove":  # the identity id of a current follower
        ids = [int(value)] if value.isdigit() else []
        services.ticket_followers_remove(ticket=ticket, identity_ids=ids, actor=actor)
    else:  # follower_add: an email address, added as a CC'd contact
        identity = services.identity_resolve(kind=IdentityKind.EMAIL, value=value)
        services.ticket_followers_add(ticket=ticket, identities=[identity], actor=actor)


@agent_required
@require_POST
def ticket_update(request: HttpRequest, number: int) -> HttpResponse:
    ticket = ticket_or_404(request, number)
    form = TicketFieldForm(request.POST)
    error = ""
    if not request.user.has_perm("tickets.edit_ticket_fields"):
        error = "Your role adds internal notes only: it cannot change the ticket's fields."
    elif not form.is_valid():
        error = "That change was not understood. Reload the page and try again."
    else:
        try:
            _apply_field(
                ticket, form.cleaned_data["field"], form.cleaned_data["value"], request.user
            )
        except TicketError as exc:
            error = exc.message
    if getattr(request, "htmx", None):  # django-htmx middleware
        context = header_context(request, ticket, header_error=error)
        return render(request, "agent/_ticket_header.html", context)
    if error:
        messages.error(request, error)
    return redirect("tickets:ticket", number=number)


@agent_required
@require_http_methods(["GET", "POST"])
def ticket_merge(request: HttpRequest, number: int) -> HttpResponse:
    ticket = ticket_or_404(request, number)
    into = request.POST.get("into") or request.GET.get("into") or ""
    preview = (
        sel.ticket_merge_preview(number=int(into), user=request.user) if into.isdigit() else None
    )
    if request.method == "POST":
        return _merge_submit(request, ticket, preview.target if preview else None, into=into)
    query = request.GET.get("q", "")
    context = {
        "t": ticket,
        "q": query,
        "candidates": sel.ticket_merge_candidates(ticket=ticket, query=query, user=request.user),
        "preview": preview,
        "source_count": ticket.messages.count(),
    }
    return render(request, "agent/ticket_merge.html", context)


def _merge_submit(
    request: HttpRequest, ticket: Ticket, target: Ticket | None, *, into: str
) -> HttpResponse:
    if target is None:
        messages.error(request, f"There is no ticket #{into}. Search again.")
        return redirect("tickets:ticket-merge", number=ticket.number)
    try:
        target = services.ticket_merge(source=ticket, target=target, actor=request.user)
    except TicketError as exc:
        messages.error(request, exc.message)
        return redirect("tickets:ticket-merge", number=ticket.number)
    messages.success(request, f"#{ticket.number} was merged into #{target.number}.")
    return redirect("tickets:ticket", number=target.number)


def _customer_back(request: HttpRequest) -> HttpResponse:
    number = request.POST.get("ticket", "")
    if number.isdigit():
        return redirect("tickets:ticket", number=int(number))
    return redirect("tickets:queue")


@agent_required
@require_POST
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_or_404(request, customer_id)
    form = CustomerForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        services.customer_update(
            customer=customer, actor=request.user, name=d["name"], notes=d["notes"]
        )
        messages.success(request, "Customer saved.")
    else:
        messages.error(request, "The customer form was invalid: check the name length.")
    return _customer_back(request)


@agent_required
@require_POST
def customer_portal_sign_out(request: HttpRequest, customer_id: int) -> HttpResponse:
    """End every portal session of the customer: a lost phone, a shared computer."""
    customer = customer_or_404(request, customer_id)
    ended = portal_sign_out_everywhere(customer_id=customer.pk)
    if ended:
        messages.success(request, f"{customer} is signed out of the portal everywhere.")
    else:
        messages.info(request, f"{customer} was not signed in to the portal anywhere.")
    return _customer_back(request)


@agent_required
@require_POST
def customer_identity_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_or_404(request, customer_id)
    form = IdentityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a kind and enter the email, phone or id to add.")
        return _customer_back(request)
    try:
        services.identity_add(customer=customer, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Added {form.cleaned_data['value']}.")
    except TicketError as exc:
        messages.error(request, exc.message)
    return _customer_back(request)


@agent_required
@require_http_methods(["GET", "POST"])
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Merge another customer (the source) into this one, after a preview."""
    target = customer_or_404(request, customer_id)
    ticket_number = request.POST.get("ticket") or request.GET.get("ticket") or ""
    if request.method == "POST":
        chosen = request.POST.get("source") or 0
        source = customers_visible_to(request.user).filter(pk=chosen).first()
        if source is None:
            messages.error(request, "Pick the customer to merge from the search results.")
        else:
            try:
                services.customer_merge(source=source, target=target, actor=request.user)
                messages.success(request, f"{source} was merged into {target}.")
            except TicketError as exc:
                messages.error(request, exc.message)
        return _customer_back(request)
    query = request.GET.get("q", "")
    context = {
        "target": target,
        "q": query,
        "ticket_number": ticket_number,
        "candidates": sel.customer_find(query=query, exclude_id=target.pk, user=request.user),
    }
    return render(request, "agent/customer_merge.html", context)


@agent_required
@require_http_methods(["GET", "POST"])
def macros(request: HttpRequest) -> HttpResponse:
    """The agent's personal macros (and, for admins, shared ones): list and create."""
    form = MacroForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            macro_create(
                actor=request.user, name=d["name"], body=d["body"], shared=d["shared"],
                set_status=d["set_status"], set_priority=d["set_priority"],
                add_tags=d["add_tags"],
            )  # fmt: skip
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Macro “{d['name']}” saved.")
            return redirect("tickets:macros")
    context = {"form": form, "macros": sel.macro_list(user=request.user)}
    return render(request, "agent/macros.html", context, status=400 if form.errors else 200)


@agent_required
@require_POST
def macro_remove(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = sel.macro_get_for(user=request.user, macro_id=macro_id)
    if macro is None:
        messages.error(request, "That macro no longer exists.")
        return redirect("tickets:macros")
    try:
        macro_delete(macro=macro, actor=request.user)
        messages.success(request, f"Macro “{macro.name}” deleted.")
    except TicketError as exc:
        messages.error(request, exc.message)
    return redirect("tickets:macros")
