"""Per-ticket facts, computed from the record: the ticket row, its messages, its audit
events and its rating. The subscribers recompute the tickets an event touched, in the
event's transaction; `reports_rebuild` runs the same function over every ticket, so the
two agree by construction (tests/tickets/reports/test_rebuild.py checks it).

Definitions (docs/reports.md is the reference):
- A *public agent reply* is an outbound, non-internal message written by an agent: not an
  internal note, and not automated mail (acknowledgements, rule mail: `is_automated`, or
  no author).
- A *solve* is a status change to solved, or to closed from an unsolved status. The
  ticket's `solved_at` is its last solve while it is solved or closed, else none.
- A *reopen* is a solved ticket going back to work: an agent's status change from solved,
  or a customer's reply to a solved ticket (the `reopened` event).

The status is read from the audit events, not the ticket row: a service writes the event
(and publishes) before it saves the row, so in the transaction the row is one step
behind while the event log is not.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from tickets.domain_events import (
    CustomerErased,
    DomainEvent,
    MessageAdded,
    SatisfactionRated,
    TicketChanged,
    TicketCreated,
    TicketMerged,
)
from tickets.models import (
    BusinessInterval,
    Direction,
    EventKind,
    Holiday,
    Message,
    SatisfactionRating,
    SlaPolicy,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.reports.models import TicketFacts
from tickets.sla.calendar import ALWAYS_OPEN, Calendar, business_seconds_between
from tickets.sla.services import active_policies_cache, calendar_build

_FACT_FIELDS = [f.name for f in TicketFacts._meta.concrete_fields if f.name != "ticket"]
_STATUS_KINDS = (EventKind.STATUS, EventKind.REOPENED, EventKind.MERGED)
_RESOLVED = (Status.SOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Overrides:
    """Values an event knows before the ticket row is saved (TicketChanged carries the
    team and assignee after the change, and the new priority)."""

    team_id: int | None
    assignee_id: int | None
    priority: str | None = None


def _calendars(policy_ids: set[int]) -> dict[int, Calendar]:
    """Each SLA policy's calendar: the active ones from the per-process copy (no query),
    the rest read once."""
    found: dict[int, Calendar] = {}
    for policy in active_policies_cache.get():
        if policy.pk in policy_ids:
            found[policy.pk] = calendar_build(business_hours=policy.business_hours)
    missing = policy_ids - found.keys()
    if missing:
        policies = SlaPolicy.objects.filter(pk__in=missing).select_related("business_hours")
        policies = policies.prefetch_related(
            Prefetch("business_hours__intervals", queryset=BusinessInterval.objects.all()),
            Prefetch("business_hours__holidays", queryset=Holiday.objects.all()),
        )
        for policy in policies:
            found[policy.pk] = calendar_build(business_hours=policy.business_hours)
    return found


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds() / 60)


def _business_minutes(calendar: Calendar, start: datetime, end: datetime | None) -> float | None:
    if end is None or end <= start:
        return None if end is None else 0.0
    return business_seconds_between(calendar, start, end) / 60


@dataclass
class _StatusHistory:
    status: str = Status.NEW
    last_solve: datetime | None = None
    solves: int = 0
    reopens: int = 0
    closed_at: datetime | None = None

    def apply(self, kind: str, data: dict[str, Any], at: datetime) -> None:
        if kind == EventKind.MERGED:
            if "into_ticket" in data:
                self.status, self.closed_at = Status.CLOSED, at
            return
        before, after = data.get("from"), data.get("to") or Status.OPEN
        if kind == EventKind.REOPENED:
            after = Status.OPEN
        if after == Status.SOLVED or (after == Status.CLOSED and before != Status.SOLVED):
            self.solves += 1
            self.last_solve = at
        if before == Status.SOLVED and after not in _RESOLVED:
            self.reopens += 1
        if after == Status.CLOSED:
            self.closed_at = at
        self.status = after


def facts_compute(
    ticket_ids: Iterable[int], *, overrides: dict[int, Overrides] | None = None
) -> list[TicketFacts]:
    """The facts of these tickets from their record, in five queries for any number
    (plus one for SLA calendars of inactive policies). Unsaved rows."""
    ids = sorted(set(ticket_ids))
    overrides = overrides or {}
    columns = ("created_at", "channel", "team_id", "assignee_id", "priority", "merged_into_id")
    tickets = list(Ticket.objects.filter(pk__in=ids).only(*columns, "sla_policy_id"))
    replies: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    agent_written = Message.objects.filter(
        ticket_id__in=ids,
        direction=Direction.OUTBOUND,
        is_automated=False,
        author_user__isnull=False,
    )
    for ticket_id, at, internal in agent_written.values_list(
        "ticket_id", "created_at", "is_internal"
    ).order_by("created_at", "id"):
        replies[ticket_id].append((at, internal))
    history: dict[int, _StatusHistory] = defaultdict(_StatusHistory)
    events = TicketEvent.objects.filter(ticket_id__in=ids, kind__in=_STATUS_KINDS)
    for ticket_id, kind, data, at in events.values_list(
        "ticket_id", "kind", "data", "created_at"
    ).order_by("created_at", "id"):
        history[ticket_id].apply(kind, data or {}, at)
    scores = dict(
        SatisfactionRating.objects.filter(ticket_id__in=ids).values_list("ticket_id", "score")
    )
    calendars = _calendars({t.sla_policy_id for t in tickets if t.sla_policy_id})
    now = timezone.now()
    rows = []
    for ticket in tickets:
        calendar = calendars.get(ticket.sla_policy_id or 0, ALWAYS_OPEN)
        written = replies[ticket.pk]
        public = [at for at, internal in written if not internal]
        first = next((at for at in public if at >= ticket.created_at), None)
        past = history[ticket.pk]
        solved_at = past.last_solve if past.status in _RESOLVED else None
        over = overrides.get(ticket.pk)
        rows.append(
            TicketFacts(
                ticket_id=ticket.pk,
                created_at=ticket.created_at,
                channel=ticket.channel,
                team_id=over.team_id if over else ticket.team_id,
                assignee_id=over.assignee_id if over else ticket.assignee_id,
                priority=(over.priority if over and over.priority else ticket.priority),
                first_public_reply_at=first,
                first_response_minutes=_minutes(ticket.created_at, first),
                first_response_business_minutes=_business_minutes(
                    calendar, ticket.created_at, first
                ),
                solved_at=solved_at,
                resolution_minutes=_minutes(ticket.created_at, solved_at),
                resolution_business_minutes=_business_minutes(
                    calendar, ticket.created_at, solved_at
                ),
                solved_count=past.solves,
                reopened_count=past.reopens,
                public_agent_replies=len(public),
                agent_touches=len(written),
                closed_at=past.closed_at,
                satisfaction_score=scores.get(ticket.pk),
                merged_into_id=ticket.merged_into_id,
                computed_at=now,
            )
        )
    return rows


def facts_store(rows: Sequence[TicketFacts]) -> None:
    if rows:
        TicketFacts.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["ticket"], update_fields=_FACT_FIELDS
        )


def facts_refresh(
    ticket_ids: Iterable[int], *, overrides: dict[int, Overrides] | None = None
) -> None:
    facts_store(facts_compute(ticket_ids, overrides=overrides))


# --- subscribers (in the event's transaction; registered in ReportsConfig.ready) -----------


def facts_on_ticket_created(event: TicketCreated) -> None:
    facts_insert_new(event.ticket_id)


def facts_insert_new(ticket_id: int) -> None:
    """A new ticket's facts in one INSERT ... SELECT: it has no agent message, status
    history or rating yet, so its row is its own columns and nothing measured (what
    facts_compute gives for it). Runs on every ingested message that opens a ticket."""
    facts, ticket = TicketFacts._meta, Ticket._meta
    copied = ["created_at", "channel", "team_id", "assignee_id", "priority", "merged_into_id"]
    zeros = ["solved_count", "reopened_count", "public_agent_replies", "agent_touches"]
    columns = ["ticket_id", *copied, *zeros, "computed_at"]
    select = ["id", *copied, *(["0"] * len(zeros)), "%s"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {facts.db_table} ({', '.join(columns)}) "  # noqa: S608 (names only)
            f"SELECT {', '.join(select)} FROM {ticket.db_table} WHERE id = %s "
            "ON CONFLICT (ticket_id) DO NOTHING",
            [timezone.now(), ticket_id],
        )


def facts_on_ticket_changed(event: TicketChanged) -> None:
    # Tags, subject and followers are no facts: no reason to write the row.
    if not event.changed_fields & {"status", "priority", "assignee", "team"}:
        return
    priority = event.change("priority")
    over = Overrides(
        team_id=event.team_id,
        assignee_id=event.assignee_id,
        priority=priority.after if priority else None,
    )
    facts_refresh([event.ticket_id], overrides={event.ticket_id: over})


def facts_on_message_added(event: MessageAdded) -> None:
    # An inbound message changes no fact (a reopen is its own TicketChanged).
    if event.direction == Direction.OUTBOUND:
        facts_refresh([event.ticket_id])


def facts_on_ticket_merged(event: TicketMerged) -> None:
    # The source's messages and events moved to the target.
    facts_refresh([event.source_ticket_id, event.target_ticket_id])


def facts_on_satisfaction_rated(event: SatisfactionRated) -> None:
    facts_refresh([event.ticket_id])


def facts_on_customer_erased(event: CustomerErased) -> None:
    # The tickets stay as anonymous skeletons and keep counting; their rows are
    # recomputed from what erasure left.
    facts_refresh(event.ticket_ids)


SUBSCRIBERS: tuple[tuple[type[DomainEvent], Callable[[Any], None]], ...] = (
    (TicketCreated, facts_on_ticket_created),
    (TicketChanged, facts_on_ticket_changed),
    (MessageAdded, facts_on_message_added),
    (TicketMerged, facts_on_ticket_merged),
    (SatisfactionRated, facts_on_satisfaction_rated),
    (CustomerErased, facts_on_customer_erased),
)


def facts_rebuild_batch(*, after_id: int, limit: int, created_from: datetime | None) -> int | None:
    """Recompute the facts of the next `limit` tickets by id, in one transaction; the last
    id done, or None when there are no more.

    The batch's tickets are locked first: a change committing meanwhile either finishes
    before the read (and is counted) or waits for this batch and then writes its own
    facts, so a rebuild never overwrites a newer row with an older one."""
    tickets = Ticket.objects.filter(pk__gt=after_id)
    if created_from is not None:
        tickets = tickets.filter(created_at__gte=created_from)
    with transaction.atomic():
        ids = list(tickets.select_for_update().order_by("pk").values_list("pk", flat=True)[:limit])
        if not ids:
            return None
        facts_refresh(ids)
    return ids[-1]
