from typing import Any

import pytest

from tickets.automation.models import FiringState, Trigger, TriggerFiring
from tickets.models import TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_it_routes_refunds_to_billing(make_trigger: Any, ingest: Any, billing: Any) -> None:
    trigger = make_trigger(
        "Refunds to Billing",
        all=[
            {"field": "subject", "operator": "contains", "value": "refund"},
            {"field": "channel", "operator": "is", "value": "email"},
        ],
        actions=[
            {"field": "team", "value": "Billing"},
            {"field": "priority", "value": "high"},
            {"field": "add_tags", "value": ["refund"]},
        ],
    )
    ticket = ingest(subject="Refund please", text="I want my money back")
    assert ticket.team == billing
    assert ticket.priority == "high"
    assert set(ticket.tags.values_list("name", flat=True)) == {"refund"}
    text = TicketEvent.objects.get(ticket=ticket, kind="automation").data["text"]
    assert text == "Trigger “Refunds to Billing” set team Billing, priority high, tags +refund"
    trigger.refresh_from_db()
    assert trigger.fired_count == 1
    assert trigger.last_fired_at is not None


def test_it_leaves_tickets_that_do_not_match(make_trigger: Any, ingest: Any, billing: Any) -> None:
    make_trigger(all=[{"field": "subject", "operator": "contains", "value": "refund"}])
    ticket = ingest(subject="Where is my parcel")
    assert not ticket.tags.exists()
    assert not TriggerFiring.objects.exists()


def test_it_sees_the_first_message_on_ticket_created(make_trigger: Any, ingest: Any) -> None:
    make_trigger(all=[{"field": "body", "operator": "matches_word", "value": "invoice"}])
    ticket = ingest(subject="Question", text="Please resend the invoice.")
    assert list(ticket.tags.values_list("name", flat=True)) == ["hit"]


def test_it_runs_in_position_order(make_trigger: Any, ingest: Any) -> None:
    make_trigger("Second", position=20, actions=[{"field": "priority", "value": "low"}])
    make_trigger("First", position=10, actions=[{"field": "priority", "value": "urgent"}])
    ticket = ingest()
    titles = [
        e.data["text"].split("”")[0].split("“")[1]
        for e in TicketEvent.objects.filter(ticket=ticket, kind="automation").order_by("id")
    ]
    assert titles == ["First", "Second"]
    assert ticket.priority == "low"


def test_it_fires_once_per_event(
    make_trigger: Any, ingest: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tickets.automation.engine import triggers_evaluate
    from tickets.domain_events import Actor, FieldChange, TicketChanged

    trigger = make_trigger(
        events=["ticket.updated"],
        all=[{"field": "priority", "operator": "changed_to", "value": "high"}],
    )
    ticket = ingest()
    event = TicketChanged(
        actor=Actor.system(),
        ticket_id=ticket.pk,
        changes=(FieldChange("priority", "normal", "high"),),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert len(triggers_evaluate(event)) == 1
        assert triggers_evaluate(event) == []
    trigger.refresh_from_db()
    assert trigger.fired_count == 1


def test_it_stops_two_triggers_that_flip_a_field(
    make_trigger: Any, ingest: Any, agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tickets.services import ticket_set_priority

    up = make_trigger(
        "Up",
        events=["ticket.updated"],
        all=[{"field": "priority", "operator": "changed_to", "value": "low"}],
        actions=[{"field": "priority", "value": "high"}],
    )
    down = make_trigger(
        "Down",
        events=["ticket.updated"],
        all=[{"field": "priority", "operator": "changed_to", "value": "high"}],
        actions=[{"field": "priority", "value": "low"}],
    )
    ticket = ingest()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_priority(ticket=ticket, priority="low", actor=agent)
    ticket.refresh_from_db()
    assert ticket.priority == "low"
    stopped = TriggerFiring.objects.get(state=FiringState.STOPPED)
    assert stopped.trigger == up
    assert "loop" in stopped.stopped
    assert TriggerFiring.objects.filter(trigger=down, state=FiringState.APPLIED).count() == 1
    texts = [e.data["text"] for e in TicketEvent.objects.filter(ticket=ticket, kind="automation")]
    assert sum("stopped" in t for t in texts) == 1, texts
    assert Trigger.objects.get(pk=up.pk).fired_count == 1


def test_a_failing_rule_never_costs_the_message(
    make_trigger: Any, ingest: Any, monkeypatch: Any, caplog: Any
) -> None:
    from tickets.automation import conditions

    make_trigger("Broken", all=[{"field": "subject", "operator": "contains", "value": "x"}])
    make_trigger("Fine", position=200, actions=[{"field": "priority", "value": "low"}])

    def boom(*args: Any) -> bool:
        raise ValueError("bad data")

    monkeypatch.setattr(conditions, "_compare_text", boom)
    ticket = ingest(subject="x marks the spot")
    assert ticket.messages.count() == 1
    assert ticket.priority == "low"
    assert "trigger" in caplog.text and "skipped" in caplog.text
