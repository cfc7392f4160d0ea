"""Trigger evaluation cost per event with 200 active triggers (target p95 < 2 ms added to
an ingest), measured as the in-transaction work of the automation subscriber: load the
ticket, test every trigger listening to the event, claim the matches.

    BENCH_AUTOMATION_TRIGGERS=200        active triggers
    BENCH_AUTOMATION_EVENTS=500          events measured (each in a rolled-back transaction)

Rows are tagged with a run id and deleted at the end.
"""

import os
import statistics
import time
import uuid
from typing import Any

from django.db import transaction

from tickets.automation.engine import triggers_cache, triggers_evaluate
from tickets.automation.models import Trigger
from tickets.domain_events import Actor, FieldChange, MessageAdded, TicketChanged
from tickets.models import Customer, Message, Tag, Ticket

TARGET_MS = 2.0


class _Rollback(Exception):
    pass


def _triggers(run_id: str, count: int) -> None:
    shapes = [
        {"all": [{"field": "subject", "operator": "contains", "value": "word{n}"}], "any": []},
        {"all": [{"field": "channel", "operator": "is", "value": "sms"},
                 {"field": "priority", "operator": "is", "value": "urgent"}], "any": []},
        {"all": [{"field": "body", "operator": "matches_word", "value": "term{n}"}], "any": []},
        {"all": [{"field": "tags", "operator": "includes", "value": ["tag{n}"]}], "any": []},
        {"all": [{"field": "priority", "operator": "changed_to", "value": "urgent"},
                 {"field": "status", "operator": "is", "value": "pending"}], "any": []},
    ]  # fmt: skip
    rows = []
    for n in range(count):
        shape = shapes[n % len(shapes)]
        conditions = {
            group: [
                {**c, "value": c["value"].replace("{n}", str(n)) if isinstance(c["value"], str)
                 else [v.replace("{n}", str(n)) for v in c["value"]]}
                for c in shape[group]
            ]
            for group in ("all", "any")
        }  # fmt: skip
        rows.append(
            Trigger(
                title=f"bench-{run_id}-{n}",
                position=n,
                events=["ticket.updated", "message.inbound"],
                conditions=conditions,
                actions=[{"field": "add_tags", "value": ["bench"]}],
            )
        )
    Trigger.objects.bulk_create(rows)
    triggers_cache.invalidate()  # bulk_create sends no signals


def _measure(events: list[Any]) -> list[float]:
    timings = []
    for event in events:
        try:
            with transaction.atomic():
                started = time.perf_counter()
                triggers_evaluate(event)
                timings.append((time.perf_counter() - started) * 1000)
                raise _Rollback
        except _Rollback:
            pass
    return timings


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def run() -> list[dict[str, Any]]:
    count = int(os.environ.get("BENCH_AUTOMATION_TRIGGERS", "200"))
    n_events = int(os.environ.get("BENCH_AUTOMATION_EVENTS", "500"))
    run_id = uuid.uuid4().hex[:8]
    customer = Customer.objects.create(name=f"bench-automation-{run_id}")
    tickets = [
        Ticket.objects.create(subject=f"Order question {i}", channel="email", customer=customer)
        for i in range(20)
    ]
    tag = Tag.objects.get_or_create(name="bench-automation")[0]
    messages = []
    for ticket in tickets:
        ticket.tags.add(tag)
        messages.append(
            Message.objects.create(
                ticket=ticket, channel="email", direction="inbound", body_text="Hello, my order"
            )
        )
    actor = Actor.system()
    events: list[Any] = []
    for i in range(n_events):
        ticket, message = tickets[i % len(tickets)], messages[i % len(messages)]
        if i % 2:
            added = MessageAdded(
                actor=actor,
                ticket_id=ticket.pk,
                message_id=message.pk,
                channel="email",
                direction="inbound",
                is_internal=False,
            )
            events.append(added)
        else:
            change = (FieldChange("priority", "normal", "high"),)
            events.append(TicketChanged(actor=actor, ticket_id=ticket.pk, changes=change))
    others = list(Trigger.objects.filter(active=True).values_list("pk", flat=True))
    try:
        Trigger.objects.filter(pk__in=others).update(active=False)  # measure ours alone
        triggers_cache.invalidate()
        baseline = _measure(events)
        _triggers(run_id, count)
        loaded = _measure(events)
    finally:
        Trigger.objects.filter(title__startswith=f"bench-{run_id}-").delete()
        Trigger.objects.filter(pk__in=others).update(active=True)
        Ticket.objects.filter(customer=customer).delete()
        customer.delete()
        triggers_cache.invalidate()
    return [
        {"benchmark": "automation", "metric": "per event, 0 triggers: p95 ms",
         "value": _p95(baseline)},
        {"benchmark": "automation", "metric": f"per event, {count} triggers: p50 ms",
         "value": statistics.median(loaded)},
        {"benchmark": "automation", "metric": f"per event, {count} triggers: p95 ms",
         "value": _p95(loaded), "target": f"< {TARGET_MS} ms"},
    ]  # fmt: skip
