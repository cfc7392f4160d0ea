"""SLA reads for agents and admins: a ticket's state, the at-risk queue, previews."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from tickets.models import (
    OPEN_SLA_STATES,
    Priority,
    SlaPolicy,
    SlaRecord,
    SlaRecordState,
    SlaTargetKind,
    Status,
    Ticket,
)
from tickets.sla.calendar import (
    ALWAYS_OPEN,
    Calendar,
    add_business_minutes,
    business_minutes_between,
)
from tickets.sla.services import calendar_build, policy_calendars


@dataclass(frozen=True)
class SlaState:
    target: str  # SlaTargetKind value
    due_at: datetime | None  # None while paused
    state: str  # "ok" | "warning" | "breached" | "paused"
    business_minutes_left: int  # negative once breached


def sla_state(*, ticket: Ticket, now: datetime | None = None) -> SlaState | None:
    """The ticket's most urgent open clock, or None when no SLA applies.

    For lists, use sla_states(): it reads a whole page in one query. The calendars come
    from the per-process copy (policy_calendars_cache): three queries when it is loaded.
    """
    records = [
        r
        for r in ticket.sla_records.all()
        if r.state in (SlaRecordState.RUNNING, SlaRecordState.PAUSED)
    ]
    if not records:
        return None
    calendar = policy_calendars().get(ticket.sla_policy_id or 0, ALWAYS_OPEN)
    return _state_of(records, calendar, now or timezone.now())


def sla_states(
    *, tickets: Sequence[Ticket], now: datetime | None = None
) -> dict[int, SlaState | None]:
    """sla_state for every ticket of a list, by ticket id, in one query.

    The open clocks of all the tickets are read in one query; the policies' calendars
    come from the per-process copy (three more queries when it is loaded), each built
    once rather than once per row.
    """
    now = now or timezone.now()
    records: dict[int, list[SlaRecord]] = defaultdict(list)
    if tickets:
        for record in SlaRecord.objects.filter(
            ticket_id__in=[t.pk for t in tickets], state__in=OPEN_SLA_STATES
        ).only(*_STATE_FIELDS):
            records[record.ticket_id].append(record)
    calendars = policy_calendars() if records else {}
    states: dict[int, SlaState | None] = {}
    for ticket in tickets:
        open_records = records.get(ticket.pk)
        if not open_records:
            states[ticket.pk] = None
            continue
        calendar = calendars.get(ticket.sla_policy_id or 0, ALWAYS_OPEN)
        states[ticket.pk] = _state_of(open_records, calendar, now)
    return states


# What _state_of reads from a record.
_STATE_FIELDS = (
    "ticket_id", "kind", "state", "target_minutes", "elapsed_seconds", "due_at",
    "warning_at", "warned_at", "breached_at",
)  # fmt: skip


def _state_of(records: list[SlaRecord], calendar: Calendar, now: datetime) -> SlaState:
    running = [r for r in records if r.state == SlaRecordState.RUNNING and r.due_at]
    if not running:
        record = min(records, key=lambda r: r.target_minutes * 60 - r.elapsed_seconds)
        left = int((record.target_minutes * 60 - record.elapsed_seconds) // 60)
        return SlaState(record.kind, None, "paused", left)
    record = min(running, key=lambda r: r.due_at or now)
    assert record.due_at is not None
    left = business_minutes_between(calendar, now, record.due_at)
    if record.breached_at is not None or record.due_at <= now:
        state = "breached"
    elif record.warned_at is not None or (record.warning_at and record.warning_at <= now):
        state = "warning"
    else:
        state = "ok"
    return SlaState(record.kind, record.due_at, state, left)


def sla_at_risk_parts(*, now: datetime) -> tuple[Q, Q]:
    """ "SLA at risk" as two disjoint conditions, each served by its own small index:
    past due, and warned or breached but not yet due.

    A ticket's sla_next_due_at is the earliest due time of its running clocks
    (sla_recompute keeps it so), so "a running clock is past its due time" is
    `sla_next_due_at <= now`: a range of the partial index ticket_sla_due_open. Clocks
    that warned (or breached) before their due time are a short window before each due
    time: the partial index sla_record_alerted holds only warned or breached running
    clocks, keyed by due time.
    """
    active = Q(status__in=[Status.NEW, Status.OPEN], sla_next_due_at__isnull=False)
    alerted = SlaRecord.objects.filter(
        Q(warned_at__isnull=False) | Q(breached_at__isnull=False),
        state=SlaRecordState.RUNNING,
        due_at__gt=now,
    )
    return (
        active & Q(sla_next_due_at__lte=now),
        active & Q(sla_next_due_at__gt=now, pk__in=alerted.values("ticket_id")),
    )


def sla_at_risk_q(*, now: datetime) -> Q:
    """The condition for "SLA at risk": an active ticket with a running clock that has
    warned, breached or passed its due time (for queue filters and counts)."""
    past_due, alerted = sla_at_risk_parts(now=now)
    return past_due | alerted


def sla_at_risk(*, now: datetime | None = None) -> QuerySet[Ticket]:
    """Active tickets with a warned or breached running clock, most urgent (earliest due)
    first. Served by the partial index ticket_sla_due_open on sla_next_due_at."""
    now = now or timezone.now()
    return (
        Ticket.objects.filter(sla_at_risk_q(now=now))
        .select_related("customer", "assignee", "team", "sla_policy")
        .order_by("sla_next_due_at", "id")
    )


@dataclass(frozen=True)
class PreviewRow:
    priority: str
    target: str
    minutes: int
    due_at: datetime  # in the calendar's timezone

    @property
    def due_local(self) -> str:
        return self.due_at.strftime("%a %d %b %Y, %H:%M %Z")


def sla_policy_preview(*, policy: SlaPolicy, now: datetime | None = None) -> list[PreviewRow]:
    """When each target would be due for a ticket created now."""
    now = now or timezone.now()
    calendar = calendar_build(business_hours=policy.business_hours)
    rows = []
    for target in policy.targets.all():
        for kind in SlaTargetKind.values:
            minutes = target.minutes_for(kind)
            if minutes is not None:
                rows.append(
                    PreviewRow(
                        target.get_priority_display(),
                        SlaTargetKind(kind).label,
                        minutes,
                        add_business_minutes(calendar, now, minutes).astimezone(calendar.zone),
                    )
                )
    return rows


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceRow:
    policy: str
    target: str
    total: int
    met: int
    breached: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.total, 1) if self.total else None


@dataclass(frozen=True)
class BreachCount:
    label: str
    breached: int


@dataclass(frozen=True)
class DayBar:
    day: date
    met: int
    breached: int


@dataclass(frozen=True)
class SlaReport:
    start: date
    end: date
    compliance: list[ComplianceRow]
    by_team: list[BreachCount]
    by_priority: list[BreachCount]
    daily: list[DayBar]

    @property
    def daily_max(self) -> int:
        return max((d.met + d.breached for d in self.daily), default=0)


def sla_report(*, start: date, end: date, tickets: QuerySet[Ticket] | None = None) -> SlaReport:
    """Clocks started between start and end (inclusive, UTC days) whose outcome is known:
    met in time, or breached (late or still running past due), of `tickets` when given
    (the tickets the reader may see, tickets.visibility). Four queries."""
    records = (
        SlaRecord.objects.all()
        if tickets is None
        else SlaRecord.objects.filter(ticket__in=tickets.values("pk"))
    )
    decided = (
        records.filter(started_at__date__gte=start, started_at__date__lte=end)
        .exclude(state=SlaRecordState.CANCELLED)
        .filter(
            Q(state__in=[SlaRecordState.MET, SlaRecordState.MISSED]) | Q(breached_at__isnull=False)
        )
    )
    breached_q = Q(state=SlaRecordState.MISSED) | Q(breached_at__isnull=False)
    counts = {"total": Count("id"), "breached": Count("id", filter=breached_q)}
    compliance = [
        ComplianceRow(
            policy=row["policy__name"] or "(deleted policy)",
            target=SlaTargetKind(row["kind"]).label,
            total=row["total"],
            met=row["total"] - row["breached"],
            breached=row["breached"],
        )
        for row in decided.values("policy__name", "kind")
        .annotate(**counts)
        .order_by("policy__name", "kind")
    ]
    breaches = decided.filter(breached_q)
    by_team = [
        BreachCount(row["ticket__team__name"] or "(no team)", row["n"])
        for row in breaches.values("ticket__team__name").annotate(n=Count("id")).order_by("-n")
    ]
    by_priority = [
        BreachCount(Priority(row["priority"]).label, row["n"])
        for row in breaches.values("priority").annotate(n=Count("id")).order_by("-n")
    ]
    per_day = {
        row["day"]: row
        for row in decided.annotate(day=TruncDate("started_at")).values("day").annotate(**counts)
    }
    daily = []
    day = start
    while day <= end:
        row = per_day.get(day)
        total, breached = (row["total"], row["breached"]) if row else (0, 0)
        daily.append(DayBar(day, total - breached, breached))
        day += timedelta(days=1)
    return SlaReport(start, end, compliance, by_team, by_priority, daily)
