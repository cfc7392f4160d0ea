"""What a customer may read: only their own tickets, public messages and attachments.

Every lookup is scoped by the signed-in customer; anything else is a 404, never a 403,
so ticket numbers and attachment ids cannot be probed.
"""

from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.http import Http404

from tickets.models import Attachment, Customer, Message, SatisfactionRating, Ticket
from tickets.selectors import Page, decode_cursor, encode_cursor

MAX_PAGE = 50


def customer_resolve(*, customer_id: int) -> Customer | None:
    """The customer a link was made for, following merges to the record that lives on."""
    customer = Customer.objects.filter(pk=customer_id).first()
    hops = 0
    while customer is not None and customer.merged_into_id and hops < 10:
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
        hops += 1
    if customer is not None and customer.erased_at is not None:
        return None  # an erased person's links and sessions open nothing
    return customer


def portal_ticket_list(*, customer_id: int, cursor: str | None = None, limit: int = 20) -> Page:
    """The customer's tickets from every channel, latest activity first. One query."""
    limit = max(1, min(limit, MAX_PAGE))
    last_public = Message.objects.filter(ticket=OuterRef("pk"), is_internal=False).order_by(
        "-created_at", "-id"
    )
    qs = (
        Ticket.objects.filter(customer_id=customer_id, merged_into__isnull=True)
        .annotate(last_message_text=Subquery(last_public.values("body_text")[:1]))
        .order_by("-updated_at", "-id")
    )
    if cursor:
        updated_at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk))
    items = list(qs[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    for ticket in items:
        text = getattr(ticket, "last_message_text", None) or ""
        ticket.preview = " ".join(text.split())[:140]  # type: ignore[attr-defined]
    return Page(items=items, next_cursor=encode_cursor(items[-1]) if has_more and items else None)


def portal_ticket_get(*, customer_id: int, number: int) -> Ticket:
    """The customer's ticket by number. A ticket merged into another of the same
    customer's gives that one (the caller redirects); anything else is a 404."""
    ticket = Ticket.objects.filter(customer_id=customer_id, number=number).first()
    hops = 0
    while ticket is not None and ticket.merged_into_id and hops < 10:
        ticket = Ticket.objects.filter(customer_id=customer_id, pk=ticket.merged_into_id).first()
        hops += 1
    if ticket is None:
        raise Http404("There is no such request in your account.")
    return ticket


def portal_ticket_messages(*, ticket: Ticket) -> list[Message]:
    """Public messages only, oldest first, with attachments and authors (three queries)."""
    return list(
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author_user", "author_identity")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def portal_attachment_get(*, customer_id: int, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id,
            message__ticket__customer_id=customer_id,
            message__is_internal=False,
        )
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise Http404("There is no such file in your requests.")
    return attachment


def satisfaction_rating_get(*, ticket: Ticket) -> SatisfactionRating | None:
    return SatisfactionRating.objects.filter(ticket=ticket).first()
