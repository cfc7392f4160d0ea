"""The beat tick: exactly once, under concurrency, after downtime, escalations by day."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory
from tickets.models import EventKind, SlaRecord, Ticket, TicketEvent
from tickets.services import ticket_assign, ticket_create
from tickets.sla.timer import sla_process_due

from .conftest import berlin


def breach_events(ticket: Any) -> list[dict[str, Any]]:
    return [
        e.data
        for e in TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA)
        if e.data["event"] == "breach"
    ]


def new_ticket(customer: Any, **kwargs: Any) -> Ticket:
    return ticket_create(customer=customer, subject="Down", channel="email", **kwargs)


@pytest.mark.django_db
def test_it_fires_once_when_ticked_twice(customer, policy, clock) -> None:
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 5))
    first, second = sla_process_due(), sla_process_due()
    assert (first.breaches, second.breaches, second.tickets) == (1, 0, 0)
    assert len(breach_events(ticket)) == 1


@pytest.mark.django_db
def test_it_catches_up_after_ten_minutes_of_downtime(customer, policy, clock) -> None:
    ticket = new_ticket(customer)  # warning 10:48, first response due 11:00
    clock(berlin(2026, 3, 2, 11, 10))
    result = sla_process_due()
    assert (result.warnings, result.breaches) == (0, 1)
    [event] = breach_events(ticket)
    assert event["target"] == "first_response" and event["late_minutes"] == 10
    record = SlaRecord.objects.get(ticket=ticket, kind="first_response")
    assert record.breached_at == berlin(2026, 3, 2, 11, 10)
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == berlin(2026, 3, 2, 16, 24)  # resolution warning


@pytest.mark.django_db
def test_it_reads_only_due_tickets(customer, policy, clock, django_assert_max_num_queries):
    for _ in range(5):
        new_ticket(customer)
    clock(berlin(2026, 3, 2, 10, 30))
    # Savepoint, the due-ticket query, release, the due-notification query: no per-ticket
    # reads for tickets that are not due.
    with django_assert_max_num_queries(4):
        assert sla_process_due().tickets == 0


@pytest.mark.django_db
def test_it_mails_the_assignee_on_commit(
    make_policy, customer, agent, clock, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    make_policy(notify_assignee=True)
    ticket = new_ticket(customer)
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    clock(berlin(2026, 3, 2, 11, 1))
    with django_capture_on_commit_callbacks(execute=True):
        sla_process_due()
    assert [m.to for m in mailoutbox] == [["alex@staff.example"]]
    assert f"#{ticket.number}" in mailoutbox[0].subject
    sla_process_due()
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_it_holds_escalation_mail_until_the_office_opens(
    make_policy, customer, agent, clock, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    team = TeamFactory(name="Tier 2", email="tier2@staff.example")
    make_policy(notify_assignee=False, notify_team=True)
    clock(berlin(2026, 3, 6, 16, 30))  # Friday
    ticket = new_ticket(customer, team=team)
    clock(berlin(2026, 3, 7, 3, 0))  # Saturday night: the worker catches up on the breach?
    # No breach yet: the first-response clock only runs in office hours (due Mon 09:30).
    assert sla_process_due().breaches == 0
    clock(berlin(2026, 3, 9, 9, 31))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_process_due().breaches == 1
    assert [m.to for m in mailoutbox] == [["tier2@staff.example"]]
    assert ticket.pk


@pytest.mark.django_db
def test_it_sends_no_mail_at_night_for_a_breach_noticed_at_night(
    make_policy, customer, clock, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    team = TeamFactory(name="Tier 2", email="tier2@staff.example")
    make_policy(notify_assignee=False, notify_team=True)
    new_ticket(customer, team=team)  # first response due Monday 11:00
    clock(berlin(2026, 3, 2, 22, 0))  # the beat was down all afternoon
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_process_due().breaches == 1
    assert mailoutbox == []
    clock(berlin(2026, 3, 3, 9, 0))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_process_due().notifications == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_it_raises_priority_and_reassigns_on_breach(make_policy, customer, clock) -> None:
    tier2 = TeamFactory(name="Tier 2")
    make_policy(raise_priority=True, escalate_to_team=tier2, notify_assignee=False)
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 1))
    sla_process_due()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team) == ("high", tier2)
    assert len(breach_events(ticket)) == 1


@pytest.mark.django_db(transaction=True)
def test_it_fires_once_when_two_ticks_race(make_policy) -> None:
    assert connection.vendor == "postgresql"
    make_policy(business_hours=None, notify_assignee=False)
    customer = CustomerFactory()
    tickets = [new_ticket(customer) for _ in range(30)]
    later = timezone.now() + timedelta(days=30)
    barrier = threading.Barrier(2)
    results = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait()
            results.append(sla_process_due(now=later, batch_size=5))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Each ticket has three clocks due (first response, resolution breach; warnings skipped).
    events = TicketEvent.objects.filter(kind=EventKind.SLA, ticket__in=tickets)
    keys = [(e.ticket_id, e.data["target"], e.data["event"]) for e in events]
    assert len(keys) == len(set(keys)) == 60
    assert sum(r.breaches for r in results) == 60


@pytest.mark.django_db
def test_it_never_breaches_a_ticket_solved_behind_the_services_back(customer, policy, clock):
    ticket = new_ticket(customer)
    Ticket.objects.filter(pk=ticket.pk).update(status="solved", solved_at=timezone.now())
    clock(berlin(2026, 3, 2, 12, 0))
    assert sla_process_due().breaches == 0
    assert breach_events(ticket) == []
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at is None


@pytest.mark.django_db
def test_it_cancels_the_clocks_of_a_merged_ticket(customer, policy, agent, clock) -> None:
    from tickets.services import ticket_merge

    source, target = new_ticket(customer), new_ticket(customer)
    ticket_merge(source=source, target=target, actor=agent)
    states = set(SlaRecord.objects.filter(ticket=source).values_list("state", flat=True))
    assert states == {"cancelled"}
    clock(berlin(2026, 3, 2, 12, 0))
    sla_process_due()
    assert breach_events(source) == [] and len(breach_events(target)) == 1


@pytest.mark.django_db
def test_it_keeps_creating_tickets_when_a_calendar_is_unusable(customer, make_policy, clock):
    from tickets.models import BusinessHours

    broken = BusinessHours.objects.create(name="Nobody home", timezone="Europe/Berlin")
    make_policy(business_hours=broken)  # no intervals, not 24/7: saved behind the admin
    ticket = new_ticket(customer)
    assert ticket.pk and ticket.sla_next_due_at is None


@pytest.mark.django_db
def test_it_escalates_once_when_two_targets_breach_together(make_policy, customer, clock):
    make_policy(raise_priority=True, notify_assignee=False, first=60, resolution=60)
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 5))
    assert sla_process_due().breaches == 2
    ticket.refresh_from_db()
    assert ticket.priority == "high"  # one step, not two


@pytest.mark.django_db
def test_it_reads_each_calendar_once_per_tick(
    make_policy, customer, clock, django_assert_max_num_queries
) -> None:
    make_policy(notify_team=True, notify_assignee=False)
    team = TeamFactory(name="Ops", email="ops@staff.example")
    for _ in range(6):
        new_ticket(customer, team=team)
    clock(berlin(2026, 3, 2, 11, 5))
    # Eleven for the batch (one calendar read for all six), then seven per notification
    # claim (savepoint, conditional update, the record's read, the outbox row in its own
    # savepoint, release), and one for the automation triggers listening to the breach
    # (the config cache reads from the database inside a transaction). A calendar read
    # per breach would add two queries each.
    with django_assert_max_num_queries(11 + 6 * 8):
        assert sla_process_due().breaches == 6


@pytest.mark.django_db
def test_it_runs_the_tick_as_a_celery_task(customer, policy, clock) -> None:
    from tickets.tasks import sla_tick_task

    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 5))
    sla_tick_task.delay()  # eager in tests
    assert len(breach_events(ticket)) == 1
