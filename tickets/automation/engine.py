"""Triggers: rules run on the domain events.

In the event's transaction, every active trigger listening to the event is tested, in
position order, against the ticket's facts; each match writes a `TriggerFiring` row, whose
unique key (trigger, ticket, event) makes a trigger fire at most once per event. The
firing's actions are applied right after that transaction commits, in one transaction
per firing that claims the row (pending -> applied): the service that published the
event still holds its own copy of the ticket and saves it after publishing, so changing
the ticket under it would be overwritten, and a crash between the two leaves the firing
pending for the next sweep (`firings_apply_pending`), never lost.

Actions publish events of their own, which run triggers again: the firings they cause
share the first one's `cascade` and count `depth`. A trigger that would fire a second
time on a ticket in one cascade (two triggers flipping a field back and forth) or a
cascade deeper than MAX_DEPTH is stopped and recorded, never run.
"""

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.utils import timezone

from helpdesk.lib.config_cache import ConfigCache
from tickets.automation.actions import actions_apply
from tickets.automation.conditions import Facts, Predicate, conditions_compile
from tickets.automation.models import FiringState, Trigger, TriggerEvent, TriggerFiring
from tickets.automation.rules import iter_conditions
from tickets.domain_events import (
    DomainEvent,
    MessageAdded,
    Phase,
    SatisfactionRated,
    SlaBreached,
    SlaWarning,
    TicketChanged,
    TicketCreated,
    subscribe,
)
from tickets.models import Message, Ticket
from tickets.services import event_record

logger = logging.getLogger(__name__)

MAX_DEPTH = 8
MAX_WAITING_CREATED = 100
AUTOMATION_EVENT = "automation"
# A firing still pending this long after it was written lost its on-commit apply (the
# process died): the sweep applies it.
PENDING_GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class CompiledTrigger:
    id: int
    title: str
    events: frozenset[str]
    matches: Predicate
    actions: tuple[dict[str, Any], ...]
    fields: frozenset[str]


def _load_triggers() -> dict[str, list[CompiledTrigger]]:
    by_event: dict[str, list[CompiledTrigger]] = {}
    for trigger in Trigger.objects.filter(active=True).order_by("position", "id"):
        try:
            compiled = CompiledTrigger(
                id=trigger.pk,
                title=trigger.title,
                events=frozenset(trigger.events),
                matches=conditions_compile(trigger.conditions),
                actions=tuple(trigger.actions),
                fields=frozenset(c["field"] for c in iter_conditions(trigger.conditions)),
            )
        except Exception:
            # A rule made invalid by a later change (its team deleted) must not stop the
            # others; the admin shows the error when the rule is next saved.
            logger.exception("trigger %s cannot be compiled; skipped", trigger.pk)
            continue
        for event in compiled.events:
            by_event.setdefault(event, []).append(compiled)
    return by_event


# The compiled rule set, per process; every save or delete of a Trigger (and of the
# teams, agents and organizations conditions name) reloads it everywhere.
triggers_cache: ConfigCache[dict[str, list[CompiledTrigger]]] = ConfigCache(
    "automation-triggers", _load_triggers
)

_local = threading.local()  # .cascade: (cascade id, depth) while a firing is applied


def _cascade() -> tuple[str, int] | None:
    return getattr(_local, "cascade", None)


@contextmanager
def _in_cascade(cascade: str, depth: int) -> Iterator[None]:
    previous = _cascade()
    _local.cascade = (cascade, depth)
    try:
        yield
    finally:
        _local.cascade = previous


def _event_names(event: DomainEvent) -> list[str]:
    if isinstance(event, TicketCreated):
        return [TriggerEvent.TICKET_CREATED]
    if isinstance(event, TicketChanged):
        return [TriggerEvent.TICKET_UPDATED]
    if isinstance(event, MessageAdded):
        if event.is_internal:
            return [TriggerEvent.MESSAGE_INTERNAL]
        if event.direction == "inbound":
            return [TriggerEvent.MESSAGE_INBOUND]
        return [TriggerEvent.MESSAGE_OUTBOUND]
    if isinstance(event, SlaWarning):
        return [TriggerEvent.SLA_WARNING]
    if isinstance(event, SlaBreached):
        return [TriggerEvent.SLA_BREACHED]
    if isinstance(event, SatisfactionRated):
        return [TriggerEvent.SATISFACTION_RATED]
    return []


def event_key(event: DomainEvent) -> str:
    """What identifies one event of one ticket: its kind, time and content."""
    if isinstance(event, TicketChanged):
        detail = ";".join(f"{c.field}:{c.before}>{c.after}" for c in event.changes)
    elif isinstance(event, MessageAdded):
        detail = f"m{event.message_id}"
    elif isinstance(event, SatisfactionRated):
        detail = f"r{event.rating_id}:{event.score}"
    elif isinstance(event, SlaWarning | SlaBreached):
        detail = f"{event.target}:{event.due_at.isoformat()}"
    else:
        detail = ""
    return f"{type(event).__name__}:{event.at.isoformat()}:{detail}"[:200]


def _facts_for(event: DomainEvent, ticket: Ticket) -> Facts:
    if isinstance(event, TicketChanged):
        return Facts(ticket, changes=event.changes, now=event.at)
    if isinstance(event, MessageAdded):
        return Facts(ticket, message_id=event.message_id, now=event.at)
    if isinstance(event, SatisfactionRated):
        return Facts(ticket, score=event.score, now=event.at)
    return Facts(ticket, now=event.at)


def _claim(
    *,
    trigger: CompiledTrigger,
    ticket_id: int,
    key: str,
    cascade: str,
    depth: int,
    state: str,
    stopped: str = "",
) -> int | None:
    """Insert the firing unless this trigger already fired for this event; its id, or
    None. ON CONFLICT keeps a duplicate event from aborting the caller's transaction."""
    table = TriggerFiring._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (trigger_id, ticket_id, event_key, state, cascade, depth,"  # noqa: S608
            " actions, summary, stopped, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, '',"
            " %s, %s) ON CONFLICT (trigger_id, ticket_id, event_key) DO NOTHING RETURNING id",
            [
                trigger.id, ticket_id, key, state, cascade, depth,
                json.dumps(list(trigger.actions)),
                stopped, timezone.now(),
            ],
        )  # fmt: skip
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _fired_in_cascade(trigger_id: int, ticket_id: int, cascade: str) -> bool:
    return TriggerFiring.objects.filter(
        trigger_id=trigger_id, ticket_id=ticket_id, cascade=cascade
    ).exists()


def _stop(
    trigger: CompiledTrigger, ticket: Ticket, key: str, cascade: str, depth: int, why: str
) -> None:
    if _claim(
        trigger=trigger, ticket_id=ticket.pk, key=key, cascade=cascade, depth=depth,
        state=FiringState.STOPPED, stopped=why,
    ) is None:  # fmt: skip
        return
    event_record(
        ticket=ticket,
        actor=None,
        kind=AUTOMATION_EVENT,
        data={"trigger": trigger.id, "text": f"Trigger “{trigger.title}” stopped: {why}"},
    )
    logger.warning("trigger %s stopped on ticket %s: %s", trigger.id, ticket.pk, why)


def triggers_evaluate(event: DomainEvent) -> list[int]:
    """Test the triggers listening to `event` and claim a firing for each match (in the
    event's transaction). Returns the firing ids; they are applied on commit."""
    names = _event_names(event)
    rules = [t for name in names for t in triggers_cache.get().get(name, [])]
    ticket_id = getattr(event, "ticket_id", None)
    if not rules or ticket_id is None:
        return []
    needs = frozenset().union(*(t.fields for t in rules))
    ticket = _ticket_with_facts(ticket_id, event, needs)
    if ticket is None or ticket.merged_into_id is not None:
        return []
    facts = _facts_for(event, ticket)
    # Read with the ticket in one query instead of one query each.
    if hasattr(ticket, "fact_tags") and not (
        isinstance(event, TicketChanged) and event.change("tags") is not None
    ):
        facts.__dict__["tags"] = {name for name in ticket.fact_tags if name}
    if hasattr(ticket, "fact_body"):
        facts.__dict__["body"] = ticket.fact_body or ""
    key = event_key(event)
    current = _cascade()
    cascade, depth = (current[0], current[1] + 1) if current else (uuid.uuid4().hex, 0)
    firing_ids = []
    for trigger in rules:
        try:
            matched = trigger.matches(facts)
        except Exception:
            # A rule must never cost the customer's message: the event's transaction
            # is the ingest's, so the rule is skipped and logged instead.
            logger.exception("trigger %s failed on ticket %s; skipped", trigger.id, ticket.pk)
            continue
        if not matched:
            continue
        if current is not None:
            if depth > MAX_DEPTH:
                _stop(trigger, ticket, key, cascade, depth,
                      f"more than {MAX_DEPTH} triggers in a row set each other off")  # fmt: skip
                continue
            if _fired_in_cascade(trigger.id, ticket.pk, cascade):
                _stop(trigger, ticket, key, cascade, depth,
                      "it would run again on a change its own actions caused (a loop)")  # fmt: skip
                continue
        firing_id = _claim(
            trigger=trigger, ticket_id=ticket.pk, key=key, cascade=cascade, depth=depth,
            state=FiringState.PENDING,
        )  # fmt: skip
        if firing_id is not None:
            firing_ids.append(firing_id)
    if firing_ids:
        transaction.on_commit(partial(firings_apply, firing_ids))
    return firing_ids


def _ticket_with_facts(ticket_id: int, event: DomainEvent, needs: frozenset[str]) -> Ticket | None:
    """The ticket, with the tags and the message text the rules ask for in the same query:
    one round trip per event whatever the number of triggers."""
    tickets = Ticket.objects.select_related("customer").filter(pk=ticket_id)
    if "tags" in needs and connection.vendor == "postgresql":
        tickets = tickets.annotate(fact_tags=ArrayAgg("tags__name", default=Value([])))
    if "body" in needs:
        messages = Message.objects.filter(ticket_id=OuterRef("pk"))
        if isinstance(event, MessageAdded):
            messages = messages.filter(pk=event.message_id)
        else:
            messages = messages.filter(direction="inbound").order_by("created_at", "id")
        tickets = tickets.annotate(fact_body=Subquery(messages.values("body_text")[:1]))
    return tickets.first()


_created_waiting: threading.local = threading.local()  # .tickets: {ticket id: event}


def _on_event(event: DomainEvent) -> None:
    if isinstance(event, TicketCreated):
        # The first message is stored after the ticket: "ticket created" triggers run
        # with it (subject and body), when it comes in the same transaction.
        waiting = _waiting()
        # A transaction that rolled back never pops its tickets (Django has no rollback
        # hook); a transaction creates a few at most, so old entries are dropped.
        while len(waiting) >= MAX_WAITING_CREATED:
            waiting.pop(next(iter(waiting)))
        waiting[event.ticket_id] = event
        transaction.on_commit(partial(_created_without_message, event))
        return
    if isinstance(event, MessageAdded):
        created = _waiting().pop(event.ticket_id, None)
        if created is not None:
            triggers_evaluate(created)
    triggers_evaluate(event)


def _waiting() -> dict[int, TicketCreated]:
    tickets: dict[int, TicketCreated] | None = getattr(_created_waiting, "tickets", None)
    if tickets is None:
        tickets = _created_waiting.tickets = {}
    return tickets


def _created_without_message(event: TicketCreated) -> None:
    if _waiting().pop(event.ticket_id, None) is None:
        return
    with transaction.atomic():
        triggers_evaluate(event)


def firings_apply(firing_ids: list[int]) -> None:
    for firing_id in firing_ids:
        try:
            firing_apply(firing_id)
        except Exception:
            # The firing stays pending and the sweep retries it; the other firings of
            # the event still run.
            logger.exception("trigger firing %s failed; the sweep retries it", firing_id)


def firing_apply(firing_id: int) -> bool:
    """Apply one pending firing's actions, once: the conditional update is the claim."""
    with transaction.atomic():
        claimed = TriggerFiring.objects.filter(pk=firing_id, state=FiringState.PENDING).update(
            state=FiringState.APPLIED
        )
        if claimed != 1:
            return False  # applied by another process, or stopped
        firing = TriggerFiring.objects.select_related("trigger").get(pk=firing_id)
        ticket = Ticket.objects.select_for_update().get(pk=firing.ticket_id)
        trigger = firing.trigger
        with _in_cascade(firing.cascade, firing.depth):
            done = actions_apply(
                ticket=ticket,
                actions=firing.actions,
                reply_as_id=trigger.reply_as_id,
                rule_title=trigger.title,
            )
        summary = ", ".join(done)
        firing.summary = summary
        firing.save(update_fields=["summary"])
        event_record(
            ticket=ticket,
            actor=None,
            kind=AUTOMATION_EVENT,
            data={"trigger": trigger.pk, "text": f"Trigger “{trigger.title}” set {summary}"},
        )
        # F(): two firings of one trigger may commit at once.
        Trigger.objects.filter(pk=trigger.pk).update(
            fired_count=F("fired_count") + 1, last_fired_at=timezone.now()
        )
    return True


def firings_apply_pending(*, now: Any = None, limit: int = 500) -> int:
    """Apply firings whose on-commit apply was lost (the process died after the commit)."""
    before = (now or timezone.now()) - PENDING_GRACE
    ids = list(
        TriggerFiring.objects.filter(state=FiringState.PENDING, created_at__lt=before)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for firing_id in ids if _apply_quietly(firing_id))


def _apply_quietly(firing_id: int) -> bool:
    try:
        return firing_apply(firing_id)
    except Exception:
        logger.exception("trigger firing %s failed again", firing_id)
        return False


def triggers_subscribe() -> None:
    from tickets.models import Organization, Team

    triggers_cache.watch([Trigger, Team, Organization])
    for event_type in (
        TicketCreated,
        TicketChanged,
        MessageAdded,
        SlaWarning,
        SlaBreached,
        SatisfactionRated,
    ):
        subscribe(event_type, _on_event, phase=Phase.IN_TRANSACTION)
