"""Agent search: a ticket number, a customer's email or phone, or full text.

On PostgreSQL full text runs over ticket subjects and message bodies through the GIN
expression indexes of migration 0005 (the SearchVector expressions here must stay the
same as there, or the planner stops using them). SQLite has no such index: a plain
case-insensitive LIKE stands in, fine for the embedded default's small data.
"""

import contextlib
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from tickets.errors import TicketError
from tickets.identity import normalize_email, normalize_phone
from tickets.models import ContactIdentity, IdentityKind, Message, Ticket

SEARCH_CONFIG = "english"
_NUMBER = re.compile(r"^#?(\d{1,18})$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")


def _customers_with(kind: str, value: str) -> Q:
    ids = ContactIdentity.objects.filter(kind=kind, value=value).values("customer_id")
    return Q(customer_id__in=ids)


# A full-text term matching at most this many subjects and message bodies is looked up
# in the GIN indexes first and the ticket query gets the ticket ids as a list: PostgreSQL
# then reads just those tickets, whatever it estimates a term's frequency to be.
FULL_TEXT_ID_LIMIT = 5000


@dataclass(frozen=True)
class SearchPlan:
    """What a search filters by. `q` is exact for any query. For a term too common for a
    list of ids, `per_ticket` is the same condition tested ticket by ticket: a list of the
    newest tickets fills its page from a few of them (tickets.selectors.ticket_list),
    where `q` would collect every match (millions) before picking the newest."""

    q: Q
    per_ticket: Q | None = None


def _full_text(term: str) -> SearchPlan:
    if connection.vendor == "postgresql":
        query = SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")
        # Each side read from its GIN index (the expressions of migration 0005).
        in_subjects = (
            Ticket.objects.annotate(fts=SearchVector("subject", config=SEARCH_CONFIG))
            .filter(fts=query)
            .order_by()
        )
        in_bodies = (
            Message.objects.annotate(fts=SearchVector("body_text", config=SEARCH_CONFIG))
            .filter(fts=query)
            .order_by()
        )
        found = in_subjects.values_list("pk", flat=True).union(
            in_bodies.values_list("ticket_id", flat=True), all=True
        )
        ids = list(found[: FULL_TEXT_ID_LIMIT + 1])
        if len(ids) <= FULL_TEXT_ID_LIMIT:
            return SearchPlan(Q(pk__in=sorted(set(ids))))
        # One UNION of ids, each side read from its GIN index, that the planner joins to
        # tickets; OR'ing two IN-subqueries instead would probe both sets for every ticket.
        return SearchPlan(
            Q(pk__in=found),
            per_ticket=Q(subject__search=query)
            | Q(Exists(in_bodies.filter(ticket_id=OuterRef("pk")))),
        )
    like = Message.objects.filter(body_text__icontains=term).values("ticket_id")
    return SearchPlan(Q(subject__icontains=term) | Q(pk__in=like))


def search_plan(text: str) -> SearchPlan:
    """How to filter by what an agent typed in the search box."""
    term = text.strip()[:200]
    number = _NUMBER.match(term)
    if number:
        q = Q(number=int(number.group(1)))
        if len(number.group(1)) >= 7:
            # Seven or more digits may also be a phone number.
            with contextlib.suppress(TicketError):
                q |= _customers_with(IdentityKind.PHONE, normalize_phone(term))
        return SearchPlan(q)
    if "@" in term and " " not in term:
        try:
            return SearchPlan(_customers_with(IdentityKind.EMAIL, normalize_email(term)))
        except TicketError:
            return _full_text(term)
    if _PHONE.match(term):
        try:
            return SearchPlan(_customers_with(IdentityKind.PHONE, normalize_phone(term)))
        except TicketError:
            pass
    return _full_text(term)


def search_q(text: str) -> Q:
    """A filter for what an agent typed in the search box."""
    return search_plan(text).q
