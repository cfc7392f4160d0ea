"""Reads for the agent workspace: queue views and their counts, the ticket page, resync.

Every function here runs a fixed number of queries whatever the number of rows, messages
or identities (tests/tickets/workspace/test_query_counts.py holds them to it).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Value
from django.utils import timezone

from helpdesk.roles import ADMINS_GROUP, AGENT_GROUPS
from tickets.models import (
    ACTIVE_STATUSES,
    AfterSend,
    AgentPreference,
    ContactIdentity,
    Direction,
    Macro,
    Message,
    SatisfactionRating,
    Status,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)
from tickets.selectors import (
    Page,
    TicketFilters,
    _encode_sorted_cursor,
    message_preview,
    ticket_list,
)
from tickets.sla.selectors import SlaState, sla_at_risk_parts, sla_at_risk_q, sla_states
from tickets.visibility import customers_visible_to, tickets_visible_to, visibility_q

RECENTLY_SOLVED = timedelta(days=7)
# A message committed a little after a later one must still reach a page that resyncs
# from a timestamp: the window re-reads recent items and the page drops ones it has.
RESYNC_GRACE = timedelta(minutes=2)
_ACTIVE = tuple(sorted(ACTIVE_STATUSES))
_WORKING = (Status.NEW, Status.OPEN)


@dataclass(frozen=True)
class QueueView:
    key: str
    label: str
    # Channels groups whose hints can change this view (tickets.events names).
    groups: tuple[str, ...]


def queue_views(*, team_ids: Sequence[int]) -> list[QueueView]:
    team_groups = tuple(f"queue.team.{t}" for t in team_ids)
    everywhere = ("queue.noteam", *team_groups)
    return [
        QueueView("unassigned", "Unassigned", everywhere),
        QueueView("mine", "Mine", ("queue.agent.me",)),
        QueueView("teams", "My teams", team_groups),
        QueueView("open", "All open", everywhere),
        QueueView("pending", "Pending", everywhere),
        QueueView("on_hold", "On hold", everywhere),
        QueueView("solved", "Recently solved", everywhere),
        QueueView("at_risk", "SLA at risk", everywhere),
    ]


VIEW_KEYS = ("unassigned", "mine", "teams", "open", "pending", "on_hold", "solved", "at_risk")
DEFAULT_VIEW = "open"
# Views with their own natural order when the agent picks none.
DEFAULT_SORT = {"at_risk": "sla"}
# "all" has no count (it would count the whole table): searches and customer links use it.
ALL_VIEW = "all"


def agent_team_ids(*, user: Any) -> list[int]:
    return list(Team.objects.filter(members=user).values_list("pk", flat=True))


def _view_q(view: str, *, user: Any, team_ids: Sequence[int], now: datetime) -> Q:
    if view == "unassigned":
        return Q(status__in=_WORKING, assignee__isnull=True)
    if view == "mine":
        return Q(status__in=_ACTIVE, assignee_id=user.pk)
    if view == "teams":
        return Q(status__in=_ACTIVE, team_id__in=list(team_ids)) if team_ids else Q(pk__in=[])
    if view == "pending":
        return Q(status=Status.PENDING)
    if view == "on_hold":
        return Q(status=Status.ON_HOLD)
    if view == "solved":
        return Q(status=Status.SOLVED, solved_at__gte=now - RECENTLY_SOLVED)
    if view == "at_risk":
        return sla_at_risk_q(now=now)
    return Q(status__in=_WORKING)


@dataclass(frozen=True)
class QueueChoice:
    """The queue page a query string asks for: a view, its sort, the agent's filters
    within it and the page's cursor."""

    view: str
    sort: str
    filters: TicketFilters
    cursor: str | None = None


def queue_choice(
    *,
    view: str | None,
    sort: str | None,
    base: TicketFilters,
    user: Any,
    team_ids: Sequence[int],
    now: datetime,
    cursor: str | None = None,
) -> QueueChoice:
    """The view (the default one when none is named) with its natural sort unless one is
    chosen, and its filters (queue_view_filters)."""
    view = view or DEFAULT_VIEW
    filters = queue_view_filters(view=view, user=user, team_ids=team_ids, base=base, now=now)
    return QueueChoice(
        view=view, sort=sort or DEFAULT_SORT.get(view, "updated"), filters=filters, cursor=cursor
    )


def queue_view_filters(
    *, view: str, user: Any, team_ids: Sequence[int], base: TicketFilters, now: datetime
) -> TicketFilters:
    """The view's own conditions on top of the filters the agent chose, within the
    tickets the agent may see (tickets.visibility).

    An explicit status filter from the agent narrows within the view's statuses.
    """
    filters = _view_filters(view=view, user=user, team_ids=team_ids, base=base, now=now)
    return replace(filters, visible=visibility_q(user))


def _view_filters(
    *, view: str, user: Any, team_ids: Sequence[int], base: TicketFilters, now: datetime
) -> TicketFilters:
    if view == "unassigned":
        own = TicketFilters(status=_WORKING, unassigned=True)
    elif view == "mine":
        own = TicketFilters(status=_ACTIVE, assignee_id=user.pk)
    elif view == "teams":
        own = TicketFilters(status=_ACTIVE, team_ids=list(team_ids) or [0])
    elif view == "pending":
        own = TicketFilters(status=(Status.PENDING,))
    elif view == "on_hold":
        own = TicketFilters(status=(Status.ON_HOLD,))
    elif view == "solved":
        own = TicketFilters(status=(Status.SOLVED,), solved_after=now - RECENTLY_SOLVED)
    elif view == "at_risk":
        own = TicketFilters(status=_WORKING, sla_at_risk=True)
    elif view == ALL_VIEW:
        return base
    else:
        own = TicketFilters(status=_WORKING)
    status = [s for s in base.status if s in own.status] if base.status else list(own.status)
    return replace(
        base,
        status=status or ["-none-"],
        unassigned=own.unassigned or base.unassigned,
        assignee_id=own.assignee_id if own.assignee_id is not None else base.assignee_id,
        team_ids=own.team_ids or base.team_ids,
        solved_after=own.solved_after or base.solved_after,
        sla_at_risk=own.sla_at_risk or base.sla_at_risk,
    )


# Counts stop here and show as "1000+": counting a 50,000-ticket queue exactly costs a
# scan of all of it on every page load and every live refresh, and nobody acts on the
# difference between 50,000 and 50,001.
COUNT_CAP = 1000


def _count_parts(view: str, *, user: Any, team_ids: Sequence[int], now: datetime) -> list[Q]:
    """The view's condition as disjoint parts whose counts add up: one for most views, two
    index-friendly ones for "SLA at risk" (see sla_at_risk_parts)."""
    if view == "at_risk":
        return list(sla_at_risk_parts(now=now))
    return [_view_q(view, user=user, team_ids=team_ids, now=now)]


def queue_counts(*, user: Any, team_ids: Sequence[int], now: datetime | None = None) -> dict:
    """Every built-in view's count, capped at COUNT_CAP, in one query: a capped count per
    view, each a subquery that stops after COUNT_CAP matching rows."""
    now = now or timezone.now()
    columns: list[str] = []
    params: list[Any] = []
    visible = tickets_visible_to(user)
    for view in VIEW_KEYS:
        counts: list[tuple[str, list[Any]]] = []
        for i, condition in enumerate(_count_parts(view, user=user, team_ids=team_ids, now=now)):
            # No ORDER BY: any index may serve the first COUNT_CAP matches; a constant
            # column lets an index that holds the conditions' columns answer alone.
            capped = visible.filter(condition).order_by().values(one=Value(1))
            try:
                sql, part_params = capped[:COUNT_CAP].query.sql_with_params()
            except EmptyResultSet:  # a view that cannot match (no teams): nothing to ask
                continue
            # The SQL is the ORM's own, with its values kept apart as parameters.
            counts.append((f"(SELECT COUNT(*) FROM ({sql}) capped_{view}_{i})", list(part_params)))  # noqa: S608
        column, column_params = _capped_sum(counts)
        columns.append(column)
        params.extend(column_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}", params)
        row = cursor.fetchone()
    return dict(zip(VIEW_KEYS, (int(n) for n in row), strict=True))


def _capped_sum(counts: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """SQL (and its parameters) adding capped counts up to COUNT_CAP; a later count runs
    only while the ones before it stay under the cap (PostgreSQL evaluates each subquery
    when its value is first needed)."""
    if not counts:
        return "0", []
    total, params = counts[0]
    for count, count_params in counts[1:]:
        total = f"CASE WHEN {total} >= {COUNT_CAP} THEN {COUNT_CAP} ELSE {total} + {count} END"
        params = [*params, *params, *count_params]
    # The two-argument min is LEAST on PostgreSQL and MIN on SQLite (the embedded default).
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    return f"{least}({total}, {COUNT_CAP})", params


@dataclass(frozen=True)
class QueueRow:
    """One ticket as its queue row shows it."""

    ticket: Ticket
    preview: str  # the last public message, on one line (message_preview)
    outbound: bool  # that message is ours: the row marks it as answered
    unread: bool  # changed since the agent last opened it, or never opened
    sla: SlaState | None


@dataclass(frozen=True)
class QueuePage:
    page: Page[Ticket]
    rows: tuple[QueueRow, ...]


def queue_page(*, choice: QueueChoice, user: Any) -> QueuePage:
    """The tickets of a queue page and their rows: ticket_list's queries, for the agent's
    read marks, and sla_states' for the SLA badges. Raises InvalidCursor."""
    page = ticket_list(filters=choice.filters, cursor=choice.cursor, sort=choice.sort, viewer=user)
    states = sla_states(tickets=page.items)
    rows = []
    for ticket in page.items:
        # Annotations of ticket_list's query.
        seen_at = getattr(ticket, "seen_at", None)
        rows.append(
            QueueRow(
                ticket=ticket,
                preview=message_preview(getattr(ticket, "last_message_text", None)),
                outbound=getattr(ticket, "last_message_direction", None) == Direction.OUTBOUND,
                unread=seen_at is None or ticket.updated_at > seen_at,
                sla=states[ticket.pk],
            )
        )
    return QueuePage(page=page, rows=tuple(rows))


# What a page shows when its cursor or sort does not parse.
QUEUE_PAGE_EMPTY = QueuePage(page=Page(items=(), next_cursor=None), rows=())


def count_label(count: int) -> str:
    return f"{COUNT_CAP}+" if count >= COUNT_CAP else str(count)


def agent_choices() -> QuerySet:
    """Everyone who can be assigned tickets: agents of every role (helpdesk.roles.is_agent)."""
    User = get_user_model()
    return (
        User.objects.filter(
            Q(is_superuser=True) | Q(groups__name__in=[*sorted(AGENT_GROUPS), ADMINS_GROUP]),
            is_active=True,
        )
        .distinct()
        .order_by("first_name", "username")
    )


@dataclass(frozen=True)
class TicketPage:
    ticket: Ticket
    timeline: list[Message | TicketEvent]
    other_tickets: list[Ticket]
    identities: list[ContactIdentity]
    macros: list[Macro]
    last_message_id: int


def ticket_header_get(*, ticket: Ticket) -> Ticket:
    """The ticket as its header shows it: people, team, tags and followers loaded."""
    return (
        Ticket.objects.select_related("customer__organization", "assignee", "team", "merged_into")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
            Prefetch("followers", queryset=ContactIdentity.objects.order_by("value")),
        )
        .get(pk=ticket.pk)
    )


def ticket_page_get(*, ticket: Ticket, user: Any) -> TicketPage:
    """Everything the ticket page shows besides the pickers: a fixed number of queries."""
    from tickets.selectors import ticket_timeline

    ticket = ticket_header_get(ticket=ticket)
    timeline = ticket_timeline(ticket=ticket)
    others = list(
        tickets_visible_to(user)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .order_by("-updated_at", "-id")[:10]
    )
    identities = list(
        ContactIdentity.objects.filter(customer_id=ticket.customer_id).order_by("kind", "value")
    )
    last_id = max((i.pk for i in timeline if isinstance(i, Message)), default=0)
    return TicketPage(
        ticket=ticket,
        timeline=timeline,
        other_tickets=others,
        identities=identities,
        macros=macro_list(user=user),
        last_message_id=last_id,
    )


def ticket_timeline_since(*, ticket: Ticket, since: datetime) -> list[Message | TicketEvent]:
    """Timeline items created after `since` (less a grace window): the page's resync."""
    after = since - RESYNC_GRACE
    messages = list(
        Message.objects.filter(ticket=ticket, created_at__gt=after)
        .select_related("author_user", "author_identity")
        .prefetch_related("attachments", "deliveries")
    )
    events = list(
        TicketEvent.objects.filter(ticket=ticket, created_at__gt=after).select_related("actor")
    )
    merged: list[Message | TicketEvent] = [*messages, *events]
    merged.sort(key=lambda item: (item.created_at, 0 if isinstance(item, TicketEvent) else 1))
    return merged


def messages_colliding(*, ticket: Ticket, user: Any, after_id: int) -> list[Message]:
    """Public messages the composer's author has not seen: the customer's or other agents'."""
    return list(
        Message.objects.filter(ticket=ticket, pk__gt=after_id, is_internal=False)
        .exclude(author_user=user)
        .select_related("author_user", "author_identity")
        .order_by("created_at", "id")
    )


def macro_list(*, user: Any) -> list[Macro]:
    """The agent's and the shared macros, with what they change (team, assignee) loaded."""
    return list(
        Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user), is_active=True)
        .select_related("set_team", "set_assignee")
        .order_by("name", "id")
    )


def macro_get_for(*, user: Any, macro_id: int) -> Macro | None:
    return (
        Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user), is_active=True, pk=macro_id)
        .select_related("set_team", "set_assignee")
        .first()
    )


def ticket_merge_candidates(
    *, ticket: Ticket, query: str, user: Any, limit: int = 10
) -> list[Ticket]:
    """Tickets this one could merge into that the user may see: by number or subject
    words; never itself."""
    term = query.strip().lstrip("#")
    if not term:
        return []
    qs = tickets_visible_to(user).exclude(pk=ticket.pk).filter(merged_into__isnull=True)
    qs = qs.exclude(status=Status.CLOSED).select_related("customer")
    if term.isdigit():
        qs = qs.filter(Q(number=int(term)) | Q(subject__icontains=term))
    else:
        qs = qs.filter(subject__icontains=term[:200])
    return list(qs.order_by("-updated_at", "-id")[:limit])


@dataclass(frozen=True)
class MergePreview:
    target: Ticket
    message_count: int


def ticket_merge_preview(*, number: int, user: Any) -> MergePreview | None:
    """The ticket a merge would go into, if the user may see it, and how many messages
    it holds. One query."""
    found = (
        tickets_visible_to(user)
        .select_related("customer")
        .annotate(message_count=Count("messages"))
        .filter(number=number)
        .first()
    )
    if found is None:
        return None
    return MergePreview(target=found, message_count=found.message_count)


def customer_find(*, query: str, exclude_id: int, user: Any) -> list[Any]:
    """Customers the user may see matching an email, phone or name, for the customer
    merge picker."""
    term = query.strip()[:200]
    if not term:
        return []
    return list(
        customers_visible_to(user)
        .filter(merged_into__isnull=True)
        .exclude(pk=exclude_id)
        .filter(Q(name__icontains=term) | Q(identities__value__icontains=term.lower()))
        .distinct()
        .prefetch_related("identities")
        .order_by("name", "id")[:10]
    )


def customer_ratings(*, customer_id: int, user: Any, limit: int = 10) -> list[SatisfactionRating]:
    """The customer's satisfaction ratings on tickets the user may see, newest first, for
    the sidebar's CSAT history."""
    return list(
        SatisfactionRating.objects.filter(
            ticket__customer_id=customer_id, ticket__in=tickets_visible_to(user)
        )
        .select_related("ticket")
        .order_by("-updated_at", "-id")[:limit]
    )


def agent_after_send(*, user: Any) -> str:
    """Where the agent's ticket page goes after a send (AfterSend; "next" by default)."""
    value = AgentPreference.objects.filter(user=user).values_list("after_send", flat=True).first()
    return value or AfterSend.NEXT


def queue_next_ticket(*, filters: TicketFilters, sort: str, after: Ticket) -> Ticket | None:
    """The ticket that follows `after` in a queue view's order, never `after` itself.

    `after` is the ticket as it was when the agent opened it: its reply moves it (a new
    last update, a status that leaves the view), and "next" means next from where it stood
    in the list the agent was working down. Two queries or so, like a queue page (see
    tickets.selectors.ticket_list), whatever the view's size.
    """
    cursor = _encode_sorted_cursor(after, sort)
    page = ticket_list(filters=filters, cursor=cursor, sort=sort, limit=2)
    return next((t for t in page.items if t.pk != after.pk), None)
