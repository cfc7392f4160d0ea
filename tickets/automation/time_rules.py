"""Time rules: one sweep tests every active time rule against the tickets that can
match it, and fires each rule once per ticket per qualifying period.

The period is the instant the rule's first "hours since" condition counts from (when the
ticket was solved, went pending, was created...): a `TimeRuleFiring` row, unique per
rule, ticket and period, is written in the transaction that applies the actions, so a
second sweep (or a second beat running the same sweep) finds the row and fires nothing,
while a ticket solved again later starts a new period. Tickets are claimed with
SELECT ... FOR UPDATE SKIP LOCKED: two sweeps never wait on or double each other.

Catch-up is by construction: a rule asks "more than N hours since", so tickets that
became due while nothing ran are simply due at the next sweep.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from helpdesk.lib.config_cache import config_snapshot
from tickets.automation.actions import actions_apply
from tickets.automation.conditions import Facts, conditions_compile
from tickets.automation.models import TimeRule, TimeRuleFiring
from tickets.automation.rules import CONDITION_FIELDS
from tickets.models import ACTIVE_STATUSES, Status, Ticket
from tickets.services import event_record

logger = logging.getLogger(__name__)

AUTOMATION_EVENT = "automation"
BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    rules: int
    candidates: int
    fired: int


def _candidates(rule: TimeRule, now: datetime) -> QuerySet[Ticket]:
    """The tickets that can match `rule`, narrowed by indexed columns. Business hours
    never exceed calendar hours, so a calendar-hours bound is safe for both."""
    tickets = Ticket.objects.filter(merged_into__isnull=True)
    statuses: set[str] | None = None
    for condition in rule.conditions.get("all", []):
        field, operator, value = condition["field"], condition["operator"], condition.get("value")
        if field == "status" and operator == "is":
            statuses = {value} if statuses is None else statuses & {value}
        elif field == "status" and operator == "is_not":
            statuses = (statuses or set(Status.values)) - {value}
        if not CONDITION_FIELDS[field].time or operator != "greater_than":
            continue
        bound = now - timedelta(hours=float(value))
        if field == "hours_since_solved":
            statuses = {Status.SOLVED} if statuses is None else statuses & {Status.SOLVED}
            tickets = tickets.filter(solved_at__lte=bound)
        elif field == "hours_since_pending":
            statuses = {Status.PENDING} if statuses is None else statuses & {Status.PENDING}
        elif field == "hours_since_created":
            tickets = tickets.filter(created_at__lte=bound)
        elif field == "hours_since_updated":
            tickets = tickets.filter(updated_at__lte=bound)
        elif field == "hours_since_customer_message":
            tickets = tickets.filter(last_inbound_at__lte=bound)
    if statuses is None:
        statuses = set(ACTIVE_STATUSES) | {Status.SOLVED}
    statuses.discard(Status.CLOSED)  # a closed ticket never changes again
    return tickets.filter(status__in=sorted(statuses))


def _period(facts: Facts, rule: TimeRule) -> str:
    for condition in rule.conditions.get("all", []):
        field = condition["field"]
        if CONDITION_FIELDS[field].time:
            if field == "hours_until_sla_due":
                due = facts.ticket.sla_next_due_at
                return f"due:{due.isoformat() if due else ''}"
            start = facts.since(field)
            return f"{field}:{start.isoformat() if start else ''}"
    return "always"


def _claim(rule: TimeRule, ticket: Ticket, period: str) -> bool:
    table = TimeRuleFiring._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (rule_id, ticket_id, period, summary, created_at)"  # noqa: S608
            " VALUES (%s, %s, %s, '', %s) ON CONFLICT (rule_id, ticket_id, period)"
            " DO NOTHING RETURNING id",
            [rule.pk, ticket.pk, period[:64], timezone.now()],
        )
        return cursor.fetchone() is not None


def _fire(rule: TimeRule, ticket_id: int, now: datetime, matches: Any) -> bool:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            return False  # another sweep holds it; it decides for this ticket
        facts = Facts(ticket, now=now)
        if not matches(facts):
            return False
        period = _period(facts, rule)
        if not _claim(rule, ticket, period):
            return False
        done = actions_apply(
            ticket=ticket, actions=rule.actions, reply_as_id=rule.reply_as_id, rule_title=rule.title
        )
        summary = ", ".join(done)
        TimeRuleFiring.objects.filter(rule=rule, ticket=ticket, period=period[:64]).update(
            summary=summary
        )
        event_record(
            ticket=ticket,
            actor=None,
            kind=AUTOMATION_EVENT,
            data={"time_rule": rule.pk, "text": f"Time rule “{rule.title}” set {summary}"},
        )
        TimeRule.objects.filter(pk=rule.pk).update(
            fired_count=F("fired_count") + 1, last_fired_at=timezone.now()
        )
    return True


def time_rules_sweep(
    *, now: datetime | None = None, rules: Iterable[TimeRule] | None = None
) -> SweepResult:
    """One sweep of every active time rule (`manage.py automations_run`, beat)."""
    # One configuration version for the whole sweep, not a cache read per ticket.
    with config_snapshot():
        return _sweep(now=now, rules=rules)


def _sweep(*, now: datetime | None = None, rules: Iterable[TimeRule] | None = None) -> SweepResult:
    now = now or timezone.now()
    active = (
        list(rules)
        if rules is not None
        else list(TimeRule.objects.filter(active=True).order_by("position", "id"))
    )
    seen = fired = 0
    for rule in active:
        try:
            matches = conditions_compile(rule.conditions)
        except Exception:
            logger.exception("time rule %s cannot be compiled; skipped", rule.pk)
            continue
        candidates = _candidates(rule, now)
        last_id = 0
        while True:
            # Keyset batches: a long sweep holds no cursor open across transactions.
            ids = list(
                candidates.filter(pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            last_id = ids[-1]
            seen += len(ids)
            for ticket_id in ids:
                try:
                    fired += _fire(rule, ticket_id, now, matches)
                except Exception:
                    logger.exception("time rule %s failed on ticket %s", rule.pk, ticket_id)
    return SweepResult(rules=len(active), candidates=seen, fired=fired)


def automations_run(*, now: datetime | None = None) -> dict[str, Any]:
    """Everything periodic of the automation app, once: time rules, waiting assignments,
    trigger firings whose apply was lost."""
    from tickets.automation.assignment import assignment_queue_drain
    from tickets.automation.engine import firings_apply_pending

    pending = firings_apply_pending(now=now)
    sweep = time_rules_sweep(now=now)
    assigned = assignment_queue_drain()
    return {
        "time_rules": sweep.rules,
        "candidates": sweep.candidates,
        "fired": sweep.fired,
        "assigned": assigned,
        "trigger_firings_recovered": pending,
    }


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True)
