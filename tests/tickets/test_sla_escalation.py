"""A breach's escalation (raise the priority, hand over to a team) is a subscriber of
SlaBreached in the tick's transaction: it commits with the breach mark or not at all."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import TeamFactory
from tickets.domain_events import Phase, SlaBreached, subscribe, unsubscribe
from tickets.models import Priority, SlaPolicy, SlaRecord, SlaTarget
from tickets.services import ticket_create
from tickets.sla.timer import sla_process_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalating(db: None) -> SlaPolicy:
    """Round the clock: first response in an hour; a breach raises the priority and
    hands the ticket to Tier 2."""
    policy = SlaPolicy.objects.create(
        name="Escalating",
        order=10,
        business_hours=None,
        raise_priority=True,
        escalate_to_team=TeamFactory(name="Tier 2"),
        notify_assignee=False,
    )
    SlaTarget.objects.create(policy=policy, priority=Priority.NORMAL, first_response_minutes=60)
    return policy


def test_it_escalates_in_the_tick_that_marks_the_breach(customer: Any, escalating: SlaPolicy):
    ticket = ticket_create(customer=customer, subject="Down", channel="email")

    assert sla_process_due(now=timezone.now() + timedelta(hours=2)).breaches == 1

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team_id) == (Priority.HIGH, escalating.escalate_to_team_id)
    assert SlaRecord.objects.get(ticket=ticket).breached_at is not None


def test_a_tick_that_fails_after_escalating_undoes_both(customer: Any, escalating: SlaPolicy):
    ticket = ticket_create(customer=customer, subject="Down", channel="email")
    later = timezone.now() + timedelta(hours=2)

    def broken(event: SlaBreached) -> None:
        raise RuntimeError("report rollup failed")

    subscribe(SlaBreached, broken, phase=Phase.IN_TRANSACTION)
    try:
        with pytest.raises(RuntimeError, match="rollup failed"):
            sla_process_due(now=later)
    finally:
        unsubscribe(SlaBreached, broken)

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team_id) == (Priority.NORMAL, None)
    assert SlaRecord.objects.get(ticket=ticket).breached_at is None
    # The next tick fires the breach, and escalates, once.
    assert sla_process_due(now=later).breaches == 1
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
