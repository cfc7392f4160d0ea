"""The clocks through a ticket's life: start, warn, breach, meet, pause, reopen, retarget."""

from typing import Any

import pytest

from tickets.models import (
    EventKind,
    SlaRecord,
    SlaRecordState,
    SlaTarget,
    SlaTargetKind,
    Status,
    TicketEvent,
)
from tickets.services import (
    message_reply,
    ticket_create,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_team,
    ticket_tags_change,
)
from tickets.sla.timer import sla_process_due

from .conftest import berlin

pytestmark = pytest.mark.django_db


def sla_events(ticket: Any) -> list[tuple[str, str]]:
    return [
        (e.data["event"], e.data["target"])
        for e in TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA).order_by("id")
    ]


def new_ticket(customer: Any, **kwargs: Any) -> Any:
    return ticket_create(customer=customer, subject="Broken", channel="email", **kwargs)


def test_it_sets_due_times_in_business_hours_on_create(customer, policy, clock) -> None:
    clock(berlin(2026, 3, 6, 16, 30))  # Friday, half an hour before closing
    ticket = new_ticket(customer)
    ticket.refresh_from_db()
    assert ticket.sla_policy == policy
    assert ticket.first_response_due_at == berlin(2026, 3, 9, 9, 30)
    assert ticket.resolution_due_at == berlin(2026, 3, 9, 16, 30)
    assert ticket.next_response_due_at is None
    assert ticket.sla_next_due_at == ticket.first_response_due_at
    # Warning at 80 % of 60 minutes: 48 business minutes.
    assert ticket.sla_next_check_at == berlin(2026, 3, 9, 9, 18)


def test_it_warns_then_breaches(customer, policy, clock) -> None:
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 10, 50))
    sla_process_due()
    assert sla_events(ticket) == [("warning", "first_response")]
    clock(berlin(2026, 3, 2, 11, 1))
    sla_process_due()
    assert sla_events(ticket) == [("warning", "first_response"), ("breach", "first_response")]
    record = SlaRecord.objects.get(ticket=ticket, kind=SlaTargetKind.FIRST_RESPONSE)
    assert record.breached_at == berlin(2026, 3, 2, 11, 1)
    assert record.state == SlaRecordState.RUNNING


def test_it_publishes_the_warning_and_the_breach_as_domain_events(customer, policy, clock) -> None:
    from tickets.domain_events import SlaBreached, SlaNoticeDue, SlaWarning, events_captured

    ticket = new_ticket(customer)
    with events_captured() as captured:
        clock(berlin(2026, 3, 2, 10, 50))
        sla_process_due()
        clock(berlin(2026, 3, 2, 11, 1))
        sla_process_due()
        sla_process_due()  # nothing new: published once

    assert [(type(e), e.ticket_id, e.target) for e in captured] == [
        (SlaWarning, ticket.pk, "first_response"),
        (SlaBreached, ticket.pk, "first_response"),
        (SlaNoticeDue, ticket.pk, "first_response"),  # the policy notifies at once
    ]
    assert (
        captured[1].due_at
        == SlaRecord.objects.get(ticket=ticket, kind=SlaTargetKind.FIRST_RESPONSE).due_at
    )


def test_it_meets_first_response_with_a_reply_before_due(customer, policy, agent, clock) -> None:
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 10, 30))
    message_reply(ticket=ticket, author=agent, body_text="On it.")
    ticket.refresh_from_db()
    record = SlaRecord.objects.get(ticket=ticket, kind=SlaTargetKind.FIRST_RESPONSE)
    assert (record.state, record.late_minutes) == (SlaRecordState.MET, 0)
    assert ticket.first_response_due_at is None
    assert ticket.sla_next_due_at == ticket.resolution_due_at
    clock(berlin(2026, 3, 2, 12, 0))
    sla_process_due()
    assert sla_events(ticket) == []


def test_it_does_not_stop_first_response_on_an_internal_note(customer, policy, agent, clock):
    ticket = new_ticket(customer)
    message_reply(ticket=ticket, author=agent, body_text="Looking", is_internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == berlin(2026, 3, 2, 11, 0)


def test_it_records_a_late_first_response(customer, policy, agent, clock) -> None:
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 20))
    message_reply(ticket=ticket, author=agent, body_text="Sorry for the wait.")
    record = SlaRecord.objects.get(ticket=ticket, kind=SlaTargetKind.FIRST_RESPONSE)
    assert (record.state, record.late_minutes) == (SlaRecordState.MISSED, 20)


def test_it_starts_next_response_on_a_customer_message(
    customer, policy, agent, clock, make_inbound
) -> None:
    from channels_app.ingest import inbound_message_ingest

    ticket = new_ticket(customer)
    message_reply(ticket=ticket, author=agent, body_text="Which order?")
    clock(berlin(2026, 3, 2, 16, 0))
    inbound_message_ingest(
        message=make_inbound(
            ticket_reference=ticket.reply_token, received_at=berlin(2026, 3, 2, 16)
        )
    )
    ticket.refresh_from_db()
    assert ticket.next_response_due_at == berlin(2026, 3, 3, 10, 0)
    clock(berlin(2026, 3, 3, 9, 30))
    message_reply(ticket=ticket, author=agent, body_text="Found it.")
    ticket.refresh_from_db()
    assert ticket.next_response_due_at is None
    record = SlaRecord.objects.get(ticket=ticket, kind=SlaTargetKind.NEXT_RESPONSE)
    assert record.state == SlaRecordState.MET


def test_a_customer_follow_up_moves_no_running_clock_and_rewrites_none(
    customer, policy, clock, make_inbound
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels_app.ingest import inbound_message_ingest

    ticket = new_ticket(customer)
    before = {r.kind: r.due_at for r in SlaRecord.objects.filter(ticket=ticket)}
    clock(berlin(2026, 3, 2, 10, 20))

    with CaptureQueriesContext(connection) as queries:
        inbound_message_ingest(message=make_inbound(ticket_reference=ticket.reply_token))

    assert ticket.messages.count() == 1
    assert {r.kind: r.due_at for r in SlaRecord.objects.filter(ticket=ticket)} == before
    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "tickets_slarecord"')]
    assert writes == []


def test_it_stops_every_clock_on_solve(customer, policy, agent, clock, make_inbound) -> None:
    from channels_app.ingest import inbound_message_ingest

    ticket = new_ticket(customer)
    message_reply(ticket=ticket, author=agent, body_text="Which order?")
    clock(berlin(2026, 3, 2, 10, 5))
    inbound_message_ingest(message=make_inbound(ticket_reference=ticket.reply_token))
    ticket.refresh_from_db()
    assert ticket.next_response_due_at is not None
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    ticket.refresh_from_db()
    assert ticket.next_response_due_at is None
    assert ticket.resolution_due_at is None
    assert ticket.sla_next_check_at is None
    assert not SlaRecord.objects.filter(ticket=ticket, state__in=["running", "paused"]).exists()
    clock(berlin(2026, 3, 20, 12, 0))
    sla_process_due()
    assert sla_events(ticket) == []


def test_it_pauses_on_pending_and_carries_the_remaining_time_over(
    customer, policy, agent, clock
) -> None:
    ticket = new_ticket(customer)  # resolution: 480 business minutes from Mon 10:00
    clock(berlin(2026, 3, 2, 12, 0))  # 120 used
    message_reply(ticket=ticket, author=agent, body_text="Need logs", set_status=Status.PENDING)
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is not None
    assert ticket.resolution_due_at is None
    assert ticket.sla_next_check_at is None
    clock(berlin(2026, 3, 4, 10, 0))  # two days later nothing breached
    assert sla_process_due().breaches == 0
    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)
    ticket.refresh_from_db()
    # 360 minutes left from Wednesday 10:00.
    assert ticket.resolution_due_at == berlin(2026, 3, 4, 16, 0)
    assert ticket.sla_paused_at is None


def test_it_starts_a_new_resolution_clock_on_reopen(customer, policy, agent, clock) -> None:
    ticket = new_ticket(customer)
    message_reply(ticket=ticket, author=agent, body_text="Fixed", set_status=Status.SOLVED)
    clock(berlin(2026, 3, 5, 10, 0))
    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)
    ticket.refresh_from_db()
    # Eight business hours from the reopen on Thursday 10:00, not from creation.
    assert ticket.resolution_due_at == berlin(2026, 3, 6, 10, 0)
    records = SlaRecord.objects.filter(ticket=ticket, kind=SlaTargetKind.RESOLUTION)
    assert [r.state for r in records] == [SlaRecordState.MET, SlaRecordState.RUNNING]


def test_it_retargets_when_the_priority_changes(make_policy, customer, agent, clock) -> None:
    policy = make_policy(priorities=("normal",))
    SlaTarget.objects.create(policy=policy, priority="urgent", first_response_minutes=15)
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 10, 10))
    ticket_set_priority(ticket=ticket, priority="urgent", actor=agent)
    ticket.refresh_from_db()
    # 15 minutes from creation (10 already used), not from the change.
    assert ticket.first_response_due_at == berlin(2026, 3, 2, 10, 15)
    # Urgent has no resolution target in this policy: that clock is cancelled.
    assert ticket.resolution_due_at is None


def test_it_applies_the_first_matching_policy_by_order(
    make_policy, customer, agent, clock, office
) -> None:
    from tests.factories import TeamFactory

    vip = TeamFactory(name="VIP")
    make_policy(name="Catch-all", order=50, first=240)
    make_policy(name="VIP", order=5, first=30, team=vip)
    ticket = new_ticket(customer)
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "Catch-all"
    ticket_set_team(ticket=ticket, team=vip, actor=agent)
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "VIP"
    assert ticket.first_response_due_at == berlin(2026, 3, 2, 10, 30)


def test_it_matches_a_tag_condition(make_policy, customer, agent, clock) -> None:
    from tickets.models import Tag

    make_policy(name="Catch-all", order=50, first=240)
    make_policy(name="Outage", order=1, first=10, tag=Tag.objects.create(name="outage"))
    ticket = new_ticket(customer)
    ticket_tags_change(ticket=ticket, actor=agent, add=["outage"])
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "Outage"


def test_it_clears_breach_state_when_the_policy_is_deactivated(customer, policy, clock) -> None:
    from tickets.sla.services import sla_recompute_open_batch

    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 12, 0))
    sla_process_due()
    policy.active = False
    policy.save()
    sla_recompute_open_batch(after_id=0)
    ticket.refresh_from_db()
    assert ticket.sla_policy is None
    assert ticket.sla_next_due_at is None and ticket.sla_next_check_at is None
    assert set(SlaRecord.objects.filter(ticket=ticket).values_list("state", flat=True)) == {
        SlaRecordState.CANCELLED
    }


def test_it_has_no_clocks_without_a_policy(customer, clock) -> None:
    ticket = new_ticket(customer)
    ticket.refresh_from_db()
    assert ticket.sla_next_due_at is None
    assert not SlaRecord.objects.exists()


def test_it_recomputes_open_tickets_in_bounded_batches(customer, make_policy, clock) -> None:
    from tickets.sla.services import sla_recompute_open_batch

    tickets = [new_ticket(customer) for _ in range(5)]
    solved = new_ticket(customer)
    ticket_set_status(ticket=solved, status=Status.SOLVED, actor=None)
    make_policy(first=30)
    last = sla_recompute_open_batch(after_id=0, limit=2)
    assert last == tickets[1].pk
    assert sla_recompute_open_batch(after_id=last, limit=2) == tickets[3].pk
    assert sla_recompute_open_batch(after_id=tickets[3].pk, limit=2) is None
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.first_response_due_at == berlin(2026, 3, 2, 10, 30)
    solved.refresh_from_db()
    assert solved.sla_next_due_at is None


def test_it_chains_the_background_recompute_task(customer, make_policy, clock, settings) -> None:
    from tickets.sla import services
    from tickets.tasks import sla_recompute_open_task

    tickets = [new_ticket(customer) for _ in range(3)]
    make_policy(first=30)
    original = services.RECOMPUTE_BATCH
    services.RECOMPUTE_BATCH = 1
    try:
        sla_recompute_open_task.delay(after_id=0)  # eager in tests: runs every batch
    finally:
        services.RECOMPUTE_BATCH = original
    assert all(
        t.first_response_due_at is not None
        for t in type(tickets[0]).objects.filter(pk__in=[t.pk for t in tickets])
    )


def test_it_sets_up_the_demo_calendar_and_policy(customer, clock) -> None:
    from tickets.models import BusinessHours
    from tickets.sla.demo import sla_demo_setup

    policy = sla_demo_setup(timezone_name="America/New_York", country="US")
    assert sla_demo_setup(timezone_name="America/New_York", country="US") == policy
    calendar = BusinessHours.objects.get()
    assert calendar.timezone == "America/New_York"
    assert calendar.intervals.count() == 5
    assert calendar.holidays.filter(name="Independence Day").count() == 2  # 2026 and 2027
    assert sorted(policy.targets.values_list("priority", flat=True)) == [
        "high", "low", "normal", "urgent"
    ]  # fmt: skip
    ticket = new_ticket(customer, priority="urgent")
    ticket.refresh_from_db()
    # Monday 10:00 Berlin is 04:00 in New York: the clock starts at 09:00 there.
    assert ticket.first_response_due_at.astimezone(calendar_zone(calendar)).hour == 9
    assert ticket.first_response_due_at.astimezone(calendar_zone(calendar)).minute == 30


def calendar_zone(calendar: Any) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(calendar.timezone)


@pytest.mark.parametrize(
    ("conditions", "matches"),
    [
        ({}, True),
        ({"priority": "high"}, True),
        ({"priority": "low"}, False),
        ({"channel": "sms"}, True),
        ({"channel": "email"}, False),
        ({"organization_id": 7}, True),
        ({"organization_id": 8}, False),
        ({"team_id": 3, "tag_id": 5}, True),
        ({"team_id": 3, "tag_id": 6}, False),
    ],
)
def test_it_matches_every_set_condition(conditions, matches) -> None:
    from tickets.models import SlaPolicy
    from tickets.sla.services import TicketFacts, policy_matches

    facts = TicketFacts(
        priority="high", team_id=3, channel="sms", organization_id=7, tag_ids=frozenset({5})
    )
    assert policy_matches(policy=SlaPolicy(name="p", **conditions), facts=facts) is matches
