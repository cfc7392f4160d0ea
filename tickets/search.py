"""Agent search: a ticket number, a customer's email or phone, or full text (and, when
full text finds nothing, typo-tolerant trigrams: tickets.search_trigram).

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
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tickets.errors import TicketError
from tickets.identity import normalize_email, normalize_phone
from tickets.models import ContactIdentity, IdentityKind, Message, Ticket
from tickets.search_trigram import TRIGRAM_MIN_SIMILARITY, similarity

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
    """What a search filters by. A number, an email or a phone (and SQLite's LIKE) give
    the condition at once: `q`. Full text on PostgreSQL gives `per_ticket`, the condition
    tested ticket by ticket (cheap on a few tickets: tickets.selectors.ticket_list tries
    it on the newest ones first), and `exact()` reads the GIN indexes."""

    q: Q | None = None
    query: SearchQuery | None = None

    @property
    def per_ticket(self) -> Q | None:
        if self.query is None:
            return None
        bodies = _in_bodies(self.query).filter(ticket_id=OuterRef("pk"))
        return Q(subject__search=self.query) | Q(Exists(bodies))

    def exact(self) -> tuple[Q, bool]:
        """The exact condition, and whether the term is common (more matches than
        FULL_TEXT_ID_LIMIT). One query for full text, none otherwise."""
        if self.query is None:
            return self.q or Q(), False
        found = _in_subjects(self.query).values_list("pk", flat=True)
        found = found.union(_in_bodies(self.query).values_list("ticket_id", flat=True), all=True)
        ids = list(found[: FULL_TEXT_ID_LIMIT + 1])
        if len(ids) <= FULL_TEXT_ID_LIMIT:
            return Q(pk__in=sorted(set(ids))), False
        # One UNION of ids, each side read from its GIN index, that the planner joins to
        # tickets; OR'ing two IN-subqueries instead would probe both sets for every ticket.
        return Q(pk__in=found), True


# Each side read from its GIN index (the expressions of migration 0005).
def _in_subjects(query: SearchQuery) -> QuerySet[Ticket]:
    return (
        Ticket.objects.annotate(fts=SearchVector("subject", config=SEARCH_CONFIG))
        .filter(fts=query)
        .order_by()
    )


def _in_bodies(query: SearchQuery) -> QuerySet[Message]:
    return (
        Message.objects.annotate(fts=SearchVector("body_text", config=SEARCH_CONFIG))
        .filter(fts=query)
        .order_by()
    )


def _full_text(term: str) -> SearchPlan:
    if connection.vendor == "postgresql":
        return SearchPlan(query=SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch"))
    like = Message.objects.filter(body_text__icontains=term).values("ticket_id")
    return SearchPlan(Q(subject__icontains=term) | Q(pk__in=like))


def _term(text: str) -> str:
    return text.strip()[:200]


def _exact(term: str) -> Q | None:
    """The condition for a ticket number, an email address or a phone; None for words."""
    number = _NUMBER.match(term)
    if number:
        q = Q(number=int(number.group(1)))
        if len(number.group(1)) >= 7:
            # Seven or more digits may also be a phone number.
            with contextlib.suppress(TicketError):
                q |= _customers_with(IdentityKind.PHONE, normalize_phone(term))
        return q
    if "@" in term and " " not in term:
        try:
            return _customers_with(IdentityKind.EMAIL, normalize_email(term))
        except TicketError:
            return None
    if _PHONE.match(term):
        try:
            return _customers_with(IdentityKind.PHONE, normalize_phone(term))
        except TicketError:
            pass
    return None


def search_plan(text: str) -> SearchPlan:
    """How to filter by what an agent typed in the search box."""
    term = _term(text)
    exact = _exact(term)
    return SearchPlan(exact) if exact is not None else _full_text(term)


def is_word_search(text: str) -> bool:
    """Whether `text` is searched as words (full text), not as a number, email or phone."""
    term = _term(text)
    return bool(term) and _exact(term) is None


def ticket_number(text: str) -> int | None:
    """The ticket number `text` is (`1234` or `#1234`), if it is one."""
    number = _NUMBER.match(_term(text))
    return int(number.group(1)) if number else None


_WORD = re.compile(r"\w+", re.UNICODE)


def _marks(word: str, wanted: list[str]) -> bool:
    # The word typed, a longer form of it ("jam" in "jammed"), a shorter one it was stemmed
    # to ("printers" finds "printer"), or a near miss (a typo search's match).
    for term in wanted:
        if word.startswith(term) or (len(word) >= 3 and term.startswith(word)):
            return True
        if len(term) >= 3 and similarity(term, word) >= TRIGRAM_MIN_SIMILARITY:
            return True
    return False


def highlight(text: str, query: str) -> SafeString:
    """`text` escaped, with its words that match what was searched in <mark>."""
    wanted = [w.lower() for w in _WORD.findall(_term(query))]
    parts: list[str] = []
    end = 0
    for match in _WORD.finditer(text):
        if wanted and _marks(match.group().lower(), wanted):
            parts.append(escape(text[end : match.start()]))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            end = match.end()
    parts.append(escape(text[end:]))
    return mark_safe("".join(parts))  # noqa: S308 (every piece of text escaped above)


def search_q(text: str) -> Q:
    """A filter for what an agent typed in the search box."""
    return search_plan(text).exact()[0]
