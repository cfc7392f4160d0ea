"""Reads that render lists and pages: query-count constant, keyset-paginated."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import (
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from helpdesk.lib.cursors import pk_cursor, pk_from_cursor
from helpdesk.lib.dates import date_in_range
from tickets import search_trigram
from tickets.models import (
    ACTIVE_STATUSES,
    PRIORITY_RANK,
    Customer,
    IdentityKind,
    Message,
    Priority,
    SatisfactionRating,
    Tag,
    Ticket,
    TicketEvent,
    TicketRead,
    priority_rank,
)
from tickets.search import is_word_search, search_plan, search_q
from tickets.visibility import customers_visible_to, tickets_visible_to

MAX_PAGE = 100


@dataclass(frozen=True)
class TicketFilters:
    status: Sequence[str] = ()
    priority: Sequence[str] = ()
    channel: Sequence[str] = ()
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    tag: str | None = None
    customer_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    team_ids: Sequence[int] = ()
    solved_after: datetime | None = None
    search: str = ""
    # Only tickets whose SLA has warned or breached (the "SLA at risk" queue).
    sla_at_risk: bool = False
    # Any of these customers (the queue's customer filter by name or email).
    customer_ids: Sequence[int] = ()
    # Only the tickets the viewer may see (tickets.visibility.visibility_q); None: all.
    visible: Q | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


# A list shows the last public message on one line, cut to this many characters.
PREVIEW_CHARS = 140


def message_preview(text: str | None) -> str:
    """A message's text as one line of a list (the queue, the portal's requests)."""
    return " ".join((text or "").split())[:PREVIEW_CHARS]


class InvalidCursor(ValueError):
    pass


def _cursor_time(text: str) -> datetime:
    """A page link's time: aware and within helpdesk.lib.dates' range, else ValueError.
    A link is the client's to edit; year 1 at +05:00 overflows when the database adapter
    moves it to UTC (a 500 on SQLite), so out of range is an invalid link like any other."""
    when = parse_datetime(text)
    if when is None or when.tzinfo is None:
        raise ValueError(text)
    date_in_range(when)
    return when


def encode_cursor(ticket: Ticket) -> str:
    raw = f"{ticket.updated_at.isoformat()}|{ticket.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.split("|", 1)
        when = _cursor_time(stamp)
        number = int(pk)
        if not 0 < number < 2**63:
            raise ValueError(pk)
        return when, number
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidCursor(
            "That page link is no longer valid. Start from the first page."
        ) from exc


def _filtered(filters: TicketFilters, search: Q | None = None) -> QuerySet[Ticket]:
    """The tickets the filters select; `search`, when given, is filters.search's exact
    condition (SearchPlan.exact), read already."""
    qs = Ticket.objects.all()
    if filters.visible is not None:
        qs = qs.filter(filters.visible)
    if filters.status:
        qs = qs.filter(status__in=list(filters.status))
    if filters.priority:
        qs = qs.filter(priority__in=list(filters.priority))
    if filters.channel:
        qs = qs.filter(channel__in=list(filters.channel))
    if filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.customer_ids:
        qs = qs.filter(customer_id__in=list(filters.customer_ids))
    if filters.created_after is not None:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        qs = qs.filter(created_at__lt=filters.created_before)
    if filters.updated_after is not None:
        qs = qs.filter(updated_at__gte=filters.updated_after)
    if filters.updated_before is not None:
        qs = qs.filter(updated_at__lt=filters.updated_before)
    if filters.team_ids:
        qs = qs.filter(team_id__in=list(filters.team_ids))
    if filters.solved_after is not None:
        qs = qs.filter(solved_at__gte=filters.solved_after)
    if filters.search.strip():
        qs = qs.filter(search if search is not None else search_q(filters.search))
    if filters.sla_at_risk:
        from tickets.sla.selectors import sla_at_risk_q

        qs = qs.filter(sla_at_risk_q(now=timezone.now()))
    return qs


# "sla": the earliest SLA due time first, tickets without a clock last.
SORTS = ("updated", "priority", "created", "sla")


def _sort_key(ticket: Ticket, sort: str) -> list[str]:
    if sort == "priority":
        return [str(PRIORITY_RANK.get(Priority(ticket.priority), 0)), ticket.updated_at.isoformat()]
    if sort == "created":
        return [ticket.created_at.isoformat()]
    if sort == "sla":
        due = ticket.sla_next_due_at
        return [due.isoformat() if due else "none"]
    return [ticket.updated_at.isoformat()]


def _encode_sorted_cursor(ticket: Ticket, sort: str) -> str:
    if sort == "updated":
        return encode_cursor(ticket)  # the plain format, shared with the portal's list
    raw = "|".join([sort, *_sort_key(ticket, sort), str(ticket.pk)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _keyset(qs: QuerySet[Ticket], cursor: str, sort: str) -> QuerySet[Ticket]:
    if sort == "updated":
        updated_at, pk = decode_cursor(cursor)
        # The redundant `updated_at <= x` is what lets PostgreSQL start the index scan at
        # the cursor; with the OR alone it walks and discards every row of earlier pages.
        return qs.filter(
            Q(updated_at__lte=updated_at)
            & (Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk))
        )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|")
        if parts[0] != sort:
            raise ValueError(parts[0])
        pk = int(parts[-1])
        if sort == "sla":
            return _sla_keyset(qs, parts[1], pk)
        rank = int(parts[1]) if sort == "priority" else 0
        when = _cursor_time(parts[2] if sort == "priority" else parts[1])
    except (ValueError, IndexError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidCursor(
            "That page link is no longer valid. Start from the first page."
        ) from exc
    if sort == "created":
        return qs.filter(Q(created_at__lt=when) | Q(created_at=when, pk__lt=pk))
    return qs.filter(
        Q(priority_rank__lt=rank)
        | Q(priority_rank=rank, updated_at__lt=when)
        | Q(priority_rank=rank, updated_at=when, pk__lt=pk)
    )


def _sla_keyset(qs: QuerySet[Ticket], due_text: str, pk: int) -> QuerySet[Ticket]:
    # Ascending due time, then id; tickets without a clock come after all others.
    if due_text == "none":
        return qs.filter(sla_next_due_at__isnull=True, pk__gt=pk)
    due = _cursor_time(due_text)
    return qs.filter(
        Q(sla_next_due_at__gt=due)
        | Q(sla_next_due_at=due, pk__gt=pk)
        | Q(sla_next_due_at__isnull=True)
    )


def _sorted(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    if sort == "priority":
        return qs.annotate(priority_rank=priority_rank()).order_by(
            "-priority_rank", "-updated_at", "-id"
        )
    if sort == "created":
        return qs.order_by("-created_at", "-id")
    if sort == "sla":
        return qs.order_by(F("sla_next_due_at").asc(nulls_last=True), "id")
    return qs.order_by("-updated_at", "-id")


# A full-text search first tests the newest SEARCH_WINDOWS[0] tickets the other filters
# select, ticket by ticket (a common word fills its page there, with no look at its
# millions of matches); a term with more matches than a list of ids holds then tests
# SEARCH_WINDOWS[1].
SEARCH_WINDOWS = (64, 512)
# The typo fallback's one window (tickets.search_trigram): see _ticket_page.
TYPO_WINDOWS = (512,)


def _word_page(
    filters: TicketFilters,
    per_ticket: Q,
    cursor: str | None,
    sort: str,
    limit: int,
    windows: tuple[int, ...],
) -> list[int] | None:
    """The page's ids read from the newest candidates, tested ticket by ticket; None when
    no window holds a page of matches (and there are more candidates than it).

    The newest `limit + 1` matches among the newest N candidates are the newest overall:
    every candidate outside the window sorts after all of it.
    """
    candidates = _sorted(_filtered(replace(filters, search="")), sort)
    if cursor:
        candidates = _keyset(candidates, cursor, sort)
    for size in windows:
        window = list(candidates.values_list("pk", flat=True)[:size])
        found = Ticket.objects.filter(per_ticket, pk__in=window).order_by()
        matched = set(found.values_list("pk", flat=True)) if window else set()
        page = [pk for pk in window if pk in matched][: limit + 1]
        if len(page) > limit or len(window) < size:
            return page
    return None


def ticket_list(
    *,
    filters: TicketFilters = TicketFilters(),
    cursor: str | None = None,
    limit: int = 50,
    sort: str = "updated",
    viewer: Any | None = None,
) -> Page[Ticket]:
    """Tickets in `sort` order (last update, priority then last update, or created; newest
    first), keyset-paginated. Two queries whatever the page size: the tickets with
    customer/assignee/team, annotated with their last public message
    (`last_message_text`, `last_message_direction`) and, given a viewer, when the viewer
    last opened them (`seen_at`, None if never); their tags. A word search adds up to
    five (the newest candidates tested, its matches read: _word_page, tickets.search);
    when it finds nothing, a typo search (tickets.search_trigram) adds up to four more
    and pages its matches the same way."""
    if sort not in SORTS:
        raise InvalidCursor(f"Unknown sort “{sort}”. Use one of: {', '.join(SORTS)}.")
    limit = max(1, min(limit, MAX_PAGE))
    page = _ticket_page(filters, cursor, limit, sort, viewer, typo=False)
    if not page.items and is_word_search(filters.search):
        # Nothing has these words: perhaps a typo. Only then, so a search that finds its
        # words never pays for trigrams.
        page = _ticket_page(filters, cursor, limit, sort, viewer, typo=True)
    return page


def _ticket_page(
    filters: TicketFilters,
    cursor: str | None,
    limit: int,
    sort: str,
    viewer: Any | None,
    typo: bool,
) -> Page[Ticket]:
    if typo:
        with search_trigram.threshold():
            condition = search_trigram.typo_q(filters.search)
            if condition is None:
                return Page(items=[], next_cursor=None)
            # A near miss of a common word is like a good share of all subjects: the
            # newest candidates, tested one by one, hold its page long before the index
            # has listed them all (10 ms against 0.8 s at a million tickets).
            typo_ids = _word_page(filters, condition, cursor, sort, limit, TYPO_WINDOWS)
            if typo_ids is None:
                ordered = _sorted(_filtered(filters, condition), sort)
                if cursor:
                    ordered = _keyset(ordered, cursor, sort)
                # Listed inside the transaction that holds the similarity threshold.
                typo_ids = list(ordered.values_list("pk", flat=True)[: limit + 1])
        return _page_of(typo_ids, limit, sort, viewer)
    search = search_plan(filters.search) if filters.search.strip() else None
    per_ticket = search.per_ticket if search is not None else None
    page_ids: Any = None
    if per_ticket is not None:  # full text: the newest few tickets may hold the page
        page_ids = _word_page(filters, per_ticket, cursor, sort, limit, SEARCH_WINDOWS[:1])
    if page_ids is None:
        exact, common = search.exact() if search is not None else (None, False)
        if common and per_ticket is not None:
            page_ids = _word_page(filters, per_ticket, cursor, sort, limit, SEARCH_WINDOWS[1:])
        if page_ids is None:
            # The page's ids in a subquery that reads only the ticket's own columns (often
            # from an index alone); the joins and per-row subqueries below then run for
            # the page's rows only, not for every row the filters match.
            ordered = _sorted(_filtered(filters, exact), sort)
            if cursor:
                ordered = _keyset(ordered, cursor, sort)
            page_ids = Subquery(ordered.values("pk")[: limit + 1])
    return _page_of(page_ids, limit, sort, viewer)


def _page_of(page_ids: Any, limit: int, sort: str, viewer: Any | None) -> Page[Ticket]:
    """The page's tickets (ids as a list or a subquery), with what a row shows."""
    last_message = Message.objects.filter(ticket=OuterRef("pk"), is_internal=False).order_by(
        "-created_at", "-id"
    )
    qs = (
        Ticket.objects.filter(pk__in=page_ids)
        .select_related("customer", "assignee", "team")
        .annotate(
            last_message_text=Subquery(last_message.values("body_text")[:1]),
            last_message_direction=Subquery(last_message.values("direction")[:1]),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )
    if viewer is not None:
        seen = TicketRead.objects.filter(ticket=OuterRef("pk"), user=viewer).values("seen_at")
        qs = qs.annotate(seen_at=Subquery(seen[:1]))
    items = list(_sorted(qs, sort)[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    next_cursor = _encode_sorted_cursor(items[-1], sort) if has_more and items else None
    return Page(items=items, next_cursor=next_cursor)


def ticket_count(*, filters: TicketFilters) -> int:
    return _filtered(filters).count()


def ticket_for_agent(*, user: Any, number: int) -> Ticket | None:
    """The ticket with this number if the user is an agent who may see it, else None."""
    return (
        tickets_visible_to(user)
        .select_related("customer__organization", "assignee", "team")
        .filter(number=number)
        .first()
    )


def ticket_timeline(*, ticket: Ticket) -> list[Message | TicketEvent]:
    """Messages (with authors, attachments, deliveries) and events, in time order."""
    messages = list(
        Message.objects.filter(ticket=ticket)
        .select_related("author_user", "author_identity")
        .prefetch_related("attachments", "deliveries")
    )
    events = list(TicketEvent.objects.filter(ticket=ticket).select_related("actor"))
    merged: list[Message | TicketEvent] = [*messages, *events]
    merged.sort(key=lambda item: (item.created_at, 0 if isinstance(item, TicketEvent) else 1))
    return merged


def ticket_satisfaction(*, ticket: Ticket) -> SatisfactionRating | None:
    """The customer's rating of the ticket (None until rated)."""
    return SatisfactionRating.objects.filter(ticket=ticket).first()


@dataclass(frozen=True)
class CustomerFilters:
    email: str | None = None  # normalized (tickets.identity)
    phone: str | None = None  # E.164
    organization_id: int | None = None


@dataclass(frozen=True)
class CustomerPage:
    items: Sequence[Customer]
    next_cursor: str | None


def customer_list(
    *,
    user: Any,
    filters: CustomerFilters = CustomerFilters(),
    cursor: str | None = None,
    limit: int = 50,
) -> CustomerPage:
    """Customers the user may see (tickets.visibility.customers_visible_to), newest first,
    merged ones left out; keyset-paginated on the primary key, so a page never shifts
    when customers are added. Two queries whatever the page size: the customers with
    their organization, and their identities."""
    limit = max(1, min(limit, MAX_PAGE))
    qs = customers_visible_to(user).filter(merged_into__isnull=True)
    if filters.email is not None:
        qs = qs.filter(identities__kind=IdentityKind.EMAIL, identities__value=filters.email)
    if filters.phone is not None:
        qs = qs.filter(identities__kind=IdentityKind.PHONE, identities__value=filters.phone)
    if filters.organization_id is not None:
        qs = qs.filter(organization_id=filters.organization_id)
    if cursor:
        try:
            qs = qs.filter(pk__lt=pk_from_cursor("customer", cursor))
        except ValueError as exc:
            raise InvalidCursor(
                "That page link is no longer valid. Start from the first page."
            ) from exc
    items = list(
        qs.select_related("organization")
        .prefetch_related("identities")
        .order_by("-pk")[: limit + 1]
    )
    has_more = len(items) > limit
    items = items[:limit]
    return CustomerPage(
        items=items, next_cursor=pk_cursor("customer", items[-1].pk) if has_more and items else None
    )


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    open_tickets: Sequence[int]  # numbers, of the tickets the agent may see


def customer_detail_for_agent(*, user: Any, customer_id: int) -> CustomerDetail | None:
    """One customer the agent may see (tickets.visibility), with identities and
    organization, and their open tickets the agent may see; None otherwise."""
    customer = (
        customers_visible_to(user)
        .select_related("organization")
        .prefetch_related("identities")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        return None
    numbers = (
        tickets_visible_to(user)
        .filter(customer=customer, status__in=list(ACTIVE_STATUSES))
        .order_by("-updated_at", "-pk")
        .values_list("number", flat=True)
    )
    return CustomerDetail(customer=customer, open_tickets=[n for n in numbers if n is not None])
