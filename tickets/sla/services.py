"""SLA writes: recompute a ticket's clocks, configuration changes, the demo setup.

sla_recompute is the one place clocks start, pause, resume, retarget and stop. It derives
everything from the ticket's current state, so calling it twice is harmless and every
ticket service can call it after its own change without knowing why the SLA cares.
"""

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from helpdesk.lib import fastsql
from helpdesk.lib.config_cache import ConfigCache
from tickets.models import (
    ACTIVE_STATUSES,
    OPEN_SLA_STATES,
    BusinessHours,
    BusinessInterval,
    Direction,
    Holiday,
    Message,
    SlaPolicy,
    SlaRecord,
    SlaRecordState,
    SlaTarget,
    SlaTargetKind,
    Status,
    Ticket,
)
from tickets.sla.calendar import (
    ALWAYS_OPEN,
    Calendar,
    CalendarError,
    add_business_seconds,
    business_seconds_between,
)

logger = logging.getLogger(__name__)

PAUSED_STATUSES = frozenset({Status.PENDING, Status.ON_HOLD})
RECOMPUTE_BATCH = 200


# --- calendars and policies ----------------------------------------------------------------


def calendar_build(
    *,
    business_hours: BusinessHours | None,
    intervals: Iterable[BusinessInterval] | None = None,
    holidays: Iterable[Holiday] | None = None,
) -> Calendar:
    """The pure Calendar for a BusinessHours row (24/7 when there is none).

    Reads intervals and holidays through the prefetch cache when the caller prefetched,
    or takes them as given (lists read for several calendars at once).
    """
    if business_hours is None:
        return ALWAYS_OPEN
    if business_hours.always_open:
        return Calendar(tz=business_hours.timezone, always_open=True)
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    if intervals is None:
        intervals = business_hours.intervals.all()
    if holidays is None:
        holidays = business_hours.holidays.all()
    for interval in intervals:
        week[interval.weekday].append(interval.minutes)
    one_off, yearly = set(), set()
    for holiday in holidays:
        if holiday.recurring:
            yearly.add((holiday.date.month, holiday.date.day))
        else:
            one_off.add(holiday.date)
    return Calendar(
        tz=business_hours.timezone,
        week=tuple(tuple(sorted(day)) for day in week),
        holidays=frozenset(one_off),
        yearly_holidays=frozenset(yearly),
    )


@dataclass(frozen=True)
class TicketFacts:
    """What policy conditions look at."""

    priority: str
    team_id: int | None
    channel: str
    organization_id: int | None
    tag_ids: frozenset[int]


def policy_matches(*, policy: SlaPolicy, facts: TicketFacts) -> bool:
    return (
        (not policy.priority or policy.priority == facts.priority)
        and (policy.team_id is None or policy.team_id == facts.team_id)
        and (not policy.channel or policy.channel == facts.channel)
        and (policy.organization_id is None or policy.organization_id == facts.organization_id)
        and (policy.tag_id is None or policy.tag_id in facts.tag_ids)
    )


def _load_active_policies() -> list[SlaPolicy]:
    return list(
        SlaPolicy.objects.filter(active=True)
        .select_related("business_hours")
        .prefetch_related(
            "targets",
            Prefetch("business_hours__intervals", queryset=BusinessInterval.objects.all()),
            Prefetch("business_hours__holidays", queryset=Holiday.objects.all()),
        )
        .order_by("order", "id")
    )


# Read on every ticket change; loaded once per process and reloaded after any edit of a
# policy, target, calendar, interval or holiday (signals, see TicketsConfig.ready).
active_policies_cache = ConfigCache("sla-policies", _load_active_policies)


def _load_policy_calendars() -> dict[int, Calendar]:
    policies = SlaPolicy.objects.select_related("business_hours").prefetch_related(
        Prefetch("business_hours__intervals", queryset=BusinessInterval.objects.all()),
        Prefetch("business_hours__holidays", queryset=Holiday.objects.all()),
    )
    return {p.pk: calendar_build(business_hours=p.business_hours) for p in policies}


# Every policy's calendar, active or not (a clock keeps the policy it started under), read
# for every SLA badge of the agent pages: a per-process copy instead of three or four
# queries per page, reloaded after any edit like the active policies.
policy_calendars_cache = ConfigCache("sla-calendars", _load_policy_calendars)


def policy_calendars() -> dict[int, Calendar]:
    """Every policy's calendar by policy id (shared, read-only). A ticket with no policy,
    or whose policy is gone, counts 24/7: `.get(ticket.sla_policy_id, ALWAYS_OPEN)`."""
    return policy_calendars_cache.get()


def _active_policies() -> list[SlaPolicy]:
    """The active policies by order, with targets and calendars. Shared, read-only."""
    return active_policies_cache.get()


def _facts(ticket: Ticket, policies: list[SlaPolicy]) -> TicketFacts:
    # The organization and the tags cost a query each: read them only when a policy has
    # such a condition (a condition-less field is never compared, see policy_matches).
    needs_org = any(policy.organization_id is not None for policy in policies)
    needs_tags = any(policy.tag_id is not None for policy in policies)
    return TicketFacts(
        priority=ticket.priority,
        team_id=ticket.team_id,
        channel=ticket.channel,
        organization_id=ticket.customer.organization_id if needs_org else None,
        tag_ids=frozenset(ticket.tags.values_list("pk", flat=True)) if needs_tags else frozenset(),
    )


def sla_policy_for(
    *, ticket: Ticket, policies: Iterable[SlaPolicy] | None = None
) -> SlaPolicy | None:
    """The first active policy, by order, whose conditions the ticket meets."""
    candidates = list(policies) if policies is not None else _active_policies()
    if not candidates:
        return None
    facts = _facts(ticket, candidates)
    for policy in candidates:
        if policy_matches(policy=policy, facts=facts):
            return policy
    return None


def _target_for(policy: SlaPolicy, priority: str) -> SlaTarget | None:
    return next((t for t in policy.targets.all() if t.priority == priority), None)


# --- clocks ------------------------------------------------------------------------------


def _stop(record: SlaRecord, *, calendar: Calendar, at: datetime) -> None:
    used = record.elapsed_seconds
    if record.resumed_at is not None and at > record.resumed_at:
        used += business_seconds_between(calendar, record.resumed_at, at)
    late = used - record.target_minutes * 60
    record.state = SlaRecordState.MISSED if late > 0 else SlaRecordState.MET
    record.late_minutes = max(0, math.ceil(late / 60))
    record.stopped_at = at
    record.resumed_at = None
    record.warning_at = None


def _cancel(record: SlaRecord, *, now: datetime) -> None:
    # A cancelled clock never counts as a breach and never sends its pending mail.
    record.state = SlaRecordState.CANCELLED
    record.stopped_at = now
    record.resumed_at = None
    record.warning_at = None
    record.notify_at = None


def _schedule(
    record: SlaRecord, *, calendar: Calendar, warning_percent: int, now: datetime
) -> None:
    """Set due_at and warning_at for a running clock from its budget and time used."""
    assert record.resumed_at is not None
    budget = record.target_minutes * 60
    remaining = budget - record.elapsed_seconds
    if remaining > 0:
        record.due_at = add_business_seconds(calendar, record.resumed_at, remaining)
    elif record.due_at is None:
        record.due_at = record.resumed_at  # used up before a pause: due when it resumed
    warn_remaining = math.ceil(budget * warning_percent / 100) - record.elapsed_seconds
    if record.warned_at is None and warn_remaining > 0:
        record.warning_at = add_business_seconds(calendar, record.resumed_at, warn_remaining)
    else:
        record.warning_at = None


def next_check_at(records: Iterable[SlaRecord]) -> datetime | None:
    """The earliest warning or breach still to fire among running clocks."""
    pending = []
    for record in records:
        if record.state != SlaRecordState.RUNNING:
            continue
        if record.warned_at is None and record.warning_at is not None:
            pending.append(record.warning_at)
        if record.breached_at is None and record.due_at is not None:
            pending.append(record.due_at)
    return min(pending, default=None)


@dataclass(frozen=True)
class _Wanted:
    start: datetime  # when the clock starts if it is not running yet


def _wanted_clocks(
    ticket: Ticket, existing: dict[str, SlaRecord], now: datetime, *, new: bool = False
) -> dict[str, _Wanted | None]:
    """For each kind: the clock it should have (None: no clock), from the ticket alone."""
    finished = ticket.status not in ACTIVE_STATUSES or ticket.merged_into_id is not None
    wanted: dict[str, _Wanted | None] = {}
    # First response: from creation until the first public agent reply (or solve).
    wanted[SlaTargetKind.FIRST_RESPONSE] = (
        _Wanted(ticket.created_at) if ticket.first_response_at is None and not finished else None
    )
    # Next response: from the oldest customer message nobody has answered yet.
    unanswered = None
    if ticket.first_response_at is not None and not finished:
        last_reply = Message.objects.filter(
            ticket=ticket, direction=Direction.OUTBOUND, is_internal=False
        ).aggregate(at=Max("created_at"))["at"]
        unanswered = (
            Message.objects.filter(
                ticket=ticket,
                direction=Direction.INBOUND,
                is_automated=False,
                created_at__gt=last_reply or ticket.first_response_at,
            )
            .order_by("created_at", "id")
            .values_list("created_at", flat=True)
            .first()
        )
    wanted[SlaTargetKind.NEXT_RESPONSE] = _Wanted(unanswered) if unanswered else None
    # Resolution: from creation, or from the reopen when an earlier clock already ran.
    wanted[SlaTargetKind.RESOLUTION] = None
    if not finished:
        ran_before = (
            not new
            and SlaTargetKind.RESOLUTION not in existing
            and SlaRecord.objects.filter(ticket=ticket, kind=SlaTargetKind.RESOLUTION).exists()
        )
        wanted[SlaTargetKind.RESOLUTION] = _Wanted(now if ran_before else ticket.created_at)
    return wanted


def _met_at(ticket: Ticket, kind: str, now: datetime) -> datetime:
    if kind == SlaTargetKind.FIRST_RESPONSE and ticket.first_response_at is not None:
        return ticket.first_response_at
    if kind == SlaTargetKind.RESOLUTION and ticket.solved_at is not None:
        return ticket.solved_at
    return now


TICKET_SLA_FIELDS = [
    "sla_policy",
    "sla_paused_at",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_next_due_at",
    "sla_next_check_at",
]


def sla_recompute(
    *,
    ticket: Ticket,
    now: datetime | None = None,
    policies: list[SlaPolicy] | None = None,
    ticket_locked: bool = False,
    new_ticket: bool = False,
) -> Ticket:
    """Bring the ticket's clocks and due times in line with its current state.

    Precondition: the ticket's own change is saved (or about to be, in this transaction).
    Locks the ticket row, so the timer never fires on a clock being changed here;
    `ticket_locked=True` says the caller holds that lock already in this transaction (or
    created the ticket in it), which saves the query. `new_ticket=True` says the ticket
    was created in this transaction, so it has no clocks yet and none ran before.
    """
    now = now or timezone.now()
    try:
        # No savepoint inside a caller's transaction: _recompute reads and computes
        # everything (where a CalendarError can arise) before its first write, so a broken
        # calendar leaves nothing to undo. Outside one it needs a transaction for its locks.
        nested = transaction.get_connection().in_atomic_block
        with nullcontext() if nested else transaction.atomic():
            _recompute(
                ticket, now, policies, ticket_locked=ticket_locked or new_ticket, new=new_ticket
            )
    except CalendarError as exc:
        # A broken calendar must not stop tickets from being created or answered: this
        # ticket's SLA is left as it was.
        logger.error(
            "SLA: unusable business hours for ticket %s (%s); it keeps its old due times. "
            "Fix the calendar in the admin.",
            ticket.pk,
            exc,
        )
    return ticket


def _recompute(
    ticket: Ticket,
    now: datetime,
    policies: list[SlaPolicy] | None,
    *,
    ticket_locked: bool,
    new: bool,
) -> None:
    if not ticket_locked:
        Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk").first()
    policy = sla_policy_for(ticket=ticket, policies=policies)
    target = _target_for(policy, ticket.priority) if policy is not None else None
    if ticket.merged_into_id is not None:
        target = None  # its history lives on the target ticket: nothing to measure here
    calendar = calendar_build(business_hours=policy.business_hours if policy else None)
    records = (
        []
        if new
        # Every customer message asks: the statement is built once (helpdesk.lib.fastsql).
        else fastsql.select_all(
            SlaRecord,
            where=f"t.ticket_id = %s AND t.state IN ({', '.join(['%s'] * len(OPEN_SLA_STATES))})",
            params=[ticket.pk, *OPEN_SLA_STATES],
            lock=True,
        )
    )
    existing = {record.kind: record for record in records}
    loaded = {record.pk: _record_values(record) for record in records}
    wanted = _wanted_clocks(ticket, existing, now, new=new) if target is not None else {}
    paused = ticket.status in PAUSED_STATUSES
    changed: list[SlaRecord] = []
    created: list[SlaRecord] = []
    for kind in SlaTargetKind.values:
        record = existing.get(kind)
        want = wanted.get(kind)
        minutes = target.minutes_for(kind) if target is not None else None
        if record is not None and (target is None or minutes is None):
            _cancel(record, now=now)  # policy gone, deactivated, or no such target
            changed.append(record)
            continue
        if record is not None and want is None:
            _stop(record, calendar=calendar, at=_met_at(ticket, kind, now))
            changed.append(record)
            continue
        if want is None or minutes is None or policy is None:
            continue
        if record is None:
            record = SlaRecord(
                ticket=ticket, kind=kind, started_at=want.start, resumed_at=want.start
            )
            created.append(record)
        else:
            changed.append(record)
        record.policy = policy
        record.priority = ticket.priority
        record.target_minutes = minutes
        if paused:
            if record.resumed_at is not None:
                record.elapsed_seconds += max(
                    0.0, business_seconds_between(calendar, record.resumed_at, now)
                )
            record.resumed_at = None
            record.state = SlaRecordState.PAUSED
            record.warning_at = None
        else:
            if record.resumed_at is None:
                record.resumed_at = now
            record.state = SlaRecordState.RUNNING
            _schedule(record, calendar=calendar, warning_percent=policy.warning_percent, now=now)
    for record in changed:
        # A reply on a ticket whose clocks run on usually moves nothing: write only the
        # fields that changed, and skip the row when none did.
        before = loaded[record.pk]
        fields = [name for name, value in _record_values(record).items() if before[name] != value]
        if fields:
            fastsql.update(record, fields)
    fastsql.insert_many(created)
    live = [r for r in [*created, *changed] if r.state in OPEN_SLA_STATES]
    _store_on_ticket(ticket, live, policy if target is not None else None, paused, now)


def _record_values(record: SlaRecord) -> dict[str, Any]:
    return {
        field.attname: getattr(record, field.attname)
        for field in SlaRecord._meta.concrete_fields
        if not field.primary_key
    }


def _store_on_ticket(
    ticket: Ticket, live: list[SlaRecord], policy: SlaPolicy | None, paused: bool, now: datetime
) -> None:
    due = {r.kind: r.due_at for r in live if r.state == SlaRecordState.RUNNING}
    watched = ["sla_policy_id", *TICKET_SLA_FIELDS[1:]]  # ids: no query for the policy
    before = [getattr(ticket, field) for field in watched]
    ticket.sla_policy = policy
    ticket.first_response_due_at = due.get(SlaTargetKind.FIRST_RESPONSE)
    ticket.next_response_due_at = due.get(SlaTargetKind.NEXT_RESPONSE)
    ticket.resolution_due_at = due.get(SlaTargetKind.RESOLUTION)
    ticket.sla_next_due_at = min((d for d in due.values() if d is not None), default=None)
    ticket.sla_next_check_at = next_check_at(live)
    if paused and live:
        ticket.sla_paused_at = ticket.sla_paused_at or now
    else:
        ticket.sla_paused_at = None
    # Most changes (a note, a tag, a team without its own policy) move no due time: skip
    # the write rather than rewrite the same row.
    if [getattr(ticket, field) for field in watched] != before:
        fastsql.update(ticket, TICKET_SLA_FIELDS)  # built once: every message may get here


# --- configuration changes -------------------------------------------------------------


def sla_config_changed() -> None:
    """A policy or calendar changed: recompute open tickets in the background, on commit."""
    from tickets.tasks import sla_recompute_open_task

    active_policies_cache.invalidate()  # bulk writes (holiday import) send no signals
    # robust: with the broker down the save stands and the failure is logged, not a 500.
    transaction.on_commit(lambda: sla_recompute_open_task.delay(after_id=0), robust=True)


def sla_recompute_open_batch(*, after_id: int, limit: int = RECOMPUTE_BATCH) -> int | None:
    """Recompute up to `limit` tickets with pk > after_id that are active or have a clock.

    Returns the last pk handled, or None when done. Each ticket commits on its own, so a
    long recompute never holds locks the timer tick is waiting for.
    """
    ids = list(
        Ticket.objects.filter(pk__gt=after_id, status__in=ACTIVE_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    policies = _active_policies()
    for ticket in Ticket.objects.filter(pk__in=ids).select_related("customer").order_by("pk"):
        sla_recompute(ticket=ticket, policies=policies)
    return ids[-1] if len(ids) == limit else None


def business_hours_import_holidays(*, business_hours: BusinessHours, years: Iterable[int]) -> int:
    """Add the country's public holidays for `years` as one-off dates; returns how many."""
    import holidays as holidays_lib

    if not business_hours.holiday_country:
        raise ValueError(
            f"“{business_hours}” has no holiday country. Set one (e.g. DE or US) and import again."
        )
    try:
        found = holidays_lib.country_holidays(
            business_hours.holiday_country.upper(),
            subdiv=business_hours.holiday_subdivision or None,
            years=list(years),
        )
    except NotImplementedError as exc:
        raise ValueError(
            f"The holidays package knows no country “{business_hours.holiday_country}”"
            + (
                f" / region “{business_hours.holiday_subdivision}”"
                if business_hours.holiday_subdivision
                else ""
            )
            + ". Use an ISO code such as DE, US or FR."
        ) from exc
    known = set(business_hours.holidays.values_list("date", flat=True))
    new = [
        Holiday(calendar=business_hours, date=day, name=str(name)[:100])
        for day, name in sorted(found.items())
        if day not in known
    ]
    Holiday.objects.bulk_create(new, ignore_conflicts=True)
    sla_config_changed()
    return len(new)


@transaction.atomic
def business_hours_set_week(
    *, business_hours: BusinessHours, week: Mapping[int, Sequence[tuple[time, time]]]
) -> None:
    """Make the calendar's intervals exactly `week` (weekday -> local (start, end) times).

    Preconditions: the caller checked the stretches (end after start or 00:00, none
    overlapping). Unchanged intervals keep their rows; the caller calls
    sla_config_changed once the whole calendar is saved.
    """
    wanted = {(day, start, end) for day, spans in week.items() for start, end in spans}
    stale = []
    for interval in business_hours.intervals.all():
        key = (interval.weekday, interval.start, interval.end)
        if key in wanted:
            wanted.discard(key)
        else:
            stale.append(interval.pk)
    if stale:
        BusinessInterval.objects.filter(pk__in=stale).delete()
    BusinessInterval.objects.bulk_create(
        BusinessInterval(calendar=business_hours, weekday=day, start=start, end=end)
        for day, start, end in sorted(wanted)
    )
