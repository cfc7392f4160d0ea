"""What a customer may read: only their own tickets, public messages and attachments.

Every lookup is scoped by the signed-in customer and finds nothing (None) outside it;
the views answer that with a 404, never a 403, so ticket numbers and attachment ids
cannot be probed.
"""

from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, Subquery

from tickets.models import Attachment, Customer, Message, Ticket
from tickets.selectors import Page, decode_cursor, encode_cursor, message_preview

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


@dataclass(frozen=True)
class PortalTicket:
    """A ticket as the customer's list of requests shows it."""

    ticket: Ticket
    preview: str  # the last public message, on one line (message_preview)


def portal_ticket_list(
    *, customer_id: int, cursor: str | None = None, limit: int = 20
) -> Page[PortalTicket]:
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
    rows = [
        PortalTicket(ticket=t, preview=message_preview(getattr(t, "last_message_text", None)))
        for t in items
    ]
    return Page(items=rows, next_cursor=encode_cursor(items[-1]) if has_more and items else None)


def portal_ticket_get(*, customer_id: int, number: int) -> Ticket | None:
    """The customer's ticket by number. A ticket merged into another of the same
    customer's gives that one (the caller redirects); None when they have no such one."""
    ticket = Ticket.objects.filter(customer_id=customer_id, number=number).first()
    hops = 0
    while ticket is not None and ticket.merged_into_id and hops < 10:
        ticket = Ticket.objects.filter(customer_id=customer_id, pk=ticket.merged_into_id).first()
        hops += 1
    return ticket


def portal_ticket_messages(*, ticket: Ticket) -> list[Message]:
    """Public messages only, oldest first, with attachments and authors (three queries)."""
    return list(
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author_user", "author_identity")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def portal_attachment_get(*, customer_id: int, attachment_id: int) -> Attachment | None:
    """A file of one of the customer's public messages."""
    return (
        Attachment.objects.filter(
            pk=attachment_id,
            message__ticket__customer_id=customer_id,
            message__is_internal=False,
        )
        .select_related("message")
        .first()
    )


def rating_ticket_get(*, ticket_id: int, customer_id: int) -> Ticket | None:
    """The ticket a rating link names, if it is still the customer's and they were not
    erased."""
    return Ticket.objects.filter(
        pk=ticket_id, customer_id=customer_id, customer__erased_at__isnull=True
    ).first()
