"""Reads behind the workspace's search-as-you-type: the top bar's ticket suggestions and
the queue's customer filter. Both are bounded and query-count constant."""

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q
from django.utils.safestring import SafeString

from tickets.errors import TicketError
from tickets.identity import normalize_email
from tickets.models import ContactIdentity, Customer, IdentityKind
from tickets.search import highlight
from tickets.selectors import TicketFilters, ticket_list
from tickets.visibility import customers_visible_to, visibility_q

SUGGESTIONS = 8
CUSTOMER_MATCHES = 50
# "Dana Scully <dana@example.com>": the customer type-ahead's labels.
_LABELLED_EMAIL = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$")


@dataclass(frozen=True)
class TicketHit:
    number: int
    subject: SafeString  # escaped, the matching words in <mark>
    customer: SafeString
    status: str
    status_label: str


def ticket_suggestions(*, text: str, user: Any, limit: int = SUGGESTIONS) -> list[TicketHit]:
    """The newest tickets of any status that the search finds (the number's ticket, an
    email's or phone's customer's, words, typos), highlighted. ticket_list's queries."""
    if not text.strip():
        return []
    filters = TicketFilters(search=text, visible=visibility_q(user))
    page = ticket_list(filters=filters, limit=limit)
    return [
        TicketHit(
            number=int(ticket.number or 0),
            subject=highlight(ticket.subject, text),
            customer=highlight(str(ticket.customer), text),
            status=ticket.status,
            status_label=str(ticket.get_status_display()),
        )
        for ticket in page.items
    ]


@dataclass(frozen=True)
class CustomerOption:
    pk: int
    label: str  # "Name <email>", the name alone, or the email alone


def _email_of(text: str) -> str | None:
    labelled = _LABELLED_EMAIL.search(text)
    candidate = labelled.group(1) if labelled else text
    if "@" not in candidate or " " in candidate.strip():
        return None
    try:
        return normalize_email(candidate)
    except TicketError:
        return None


def _matching(text: str) -> Q | None:
    text = text.strip()[:200]
    if not text:
        return None
    email = _email_of(text)
    if email is not None:
        owners = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=email)
        return Q(pk__in=owners.values("customer_id"))
    # On PostgreSQL the trigram index of migration 0011 answers the ILIKE.
    return Q(name__icontains=text)


def customer_ids_matching(*, text: str) -> list[int]:
    """The customers `text` names: its email address exactly (alone, or in a "Name
    <email>" label), or else part of their name; at most CUSTOMER_MATCHES. One query."""
    condition = _matching(text)
    if condition is None:
        return []
    found = Customer.objects.filter(condition, merged_into__isnull=True).order_by("name", "id")
    return list(found.values_list("pk", flat=True)[:CUSTOMER_MATCHES])


def customer_options(*, text: str, user: Any, limit: int = SUGGESTIONS) -> list[CustomerOption]:
    """The type-ahead's customers the user may see, labelled with their email address.
    Two queries, besides the user's scope (tickets.visibility reads it once per request)."""
    condition = _matching(text)
    if condition is None:
        return []
    emails = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL).order_by("id")
    found = (
        customers_visible_to(user)
        .filter(condition, merged_into__isnull=True)
        .order_by("name", "id")
        .prefetch_related(Prefetch("identities", queryset=emails, to_attr="emails"))[:limit]
    )
    return [customer_option(customer) for customer in found]


def customer_option(customer: Customer) -> CustomerOption:
    """A customer as the filter shows it; uses `emails` when prefetched (one query if not)."""
    emails = getattr(customer, "emails", None)
    if emails is None:
        emails = list(customer.identities.filter(kind=IdentityKind.EMAIL).order_by("id")[:1])
    email = emails[0].value if emails else ""
    if customer.name and email:
        return CustomerOption(pk=customer.pk, label=f"{customer.name} <{email}>")
    return CustomerOption(pk=customer.pk, label=customer.name or email or str(customer))


def customer_label(*, customer_id: int, user: Any) -> str:
    """The filter's text for a `customer=<id>` link; empty when there is no such customer
    the user may see."""
    customer = customers_visible_to(user).filter(pk=customer_id).first()
    return customer_option(customer).label if customer is not None else ""
