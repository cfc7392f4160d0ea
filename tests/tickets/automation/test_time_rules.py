import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.factories import AgentFactory
from tickets.automation.models import TimeRule, TimeRuleFiring
from tickets.automation.time_rules import time_rules_sweep
from tickets.models import Message, Ticket
from tickets.services import ticket_assign, ticket_set_status


def _solved(ingest: Any, agent: Any) -> Ticket:
    ticket = ingest()
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    ticket_set_status(ticket=ticket, status="solved", actor=agent)
    return ticket


@pytest.mark.django_db
def test_it_closes_solved_tickets_after_4_days(ingest: Any, agent: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket = _solved(ingest, agent)
    with time_machine.travel(start + timedelta(hours=95), tick=False):
        time_rules_sweep()
    assert Ticket.objects.get(pk=ticket.pk).status == "solved"
    with time_machine.travel(start + timedelta(hours=97), tick=False):
        result = time_rules_sweep()
    assert result.fired == 1
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    rule = TimeRule.objects.get(title="Close solved tickets after 4 days")
    assert rule.fired_count == 1


@pytest.mark.django_db
def test_it_catches_up_after_downtime_and_fires_once(ingest: Any, agent: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket = ingest()
        ticket_assign(ticket=ticket, agent=agent, actor=agent)
        ticket_set_status(ticket=ticket, status="pending", actor=agent)
    # Nothing ran for 20 days: one sweep reminds and solves.
    with time_machine.travel(start + timedelta(days=20), tick=False):
        time_rules_sweep()
        time_rules_sweep()
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    public = Message.objects.filter(ticket=ticket, direction="outbound", is_internal=False)
    assert public.count() == 1
    reminder = public.get()
    assert reminder.is_automated
    assert "still waiting" in reminder.body_text
    assert Message.objects.filter(ticket=ticket, is_internal=True).count() == 1
    assert TimeRuleFiring.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db
def test_a_new_period_fires_again(ingest: Any, agent: Any) -> None:
    rule = TimeRule.objects.get(title="Remind the customer after 3 days pending")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket = ingest()
        ticket_assign(ticket=ticket, agent=agent, actor=agent)
        ticket_set_status(ticket=ticket, status="pending", actor=agent)
    with time_machine.travel(start + timedelta(days=4), tick=False):
        time_rules_sweep(rules=[rule])
        ticket.refresh_from_db()
        ticket_set_status(ticket=ticket, status="open", actor=agent)
        ticket_set_status(ticket=ticket, status="pending", actor=agent)
    with time_machine.travel(start + timedelta(days=8), tick=False):
        time_rules_sweep(rules=[rule])
        time_rules_sweep(rules=[rule])
    assert TimeRuleFiring.objects.filter(rule=rule, ticket=ticket).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_fire_each_ticket_once(ingest: Any) -> None:
    from tickets.automation.defaults import defaults_ensure
    from tickets.models import Macro

    # A transactional test's database may have been emptied by an earlier one.
    defaults_ensure(macro_model=Macro, time_rule_model=TimeRule)
    agent = AgentFactory()
    start = timezone.now() - timedelta(days=5)
    with time_machine.travel(start, tick=False):
        tickets = [_solved(ingest, agent) for _ in range(12)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        try:
            barrier.wait()
            time_rules_sweep()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # A ticket one sweep skipped while the other held it is picked up by the next one.
    time_rules_sweep()
    assert TimeRuleFiring.objects.count() == len(tickets)
    assert set(Ticket.objects.values_list("status", flat=True)) == {"closed"}


@pytest.mark.django_db
def test_business_hours_condition_counts_only_open_hours(ingest: Any, agent: Any) -> None:
    from tickets.automation.conditions import Facts, conditions_compile
    from tickets.sla.calendar import Calendar

    cond = conditions_compile(
        {
            "all": [
                {
                    "field": "hours_since_created",
                    "operator": "greater_than",
                    "value": 9,
                    "calendar": "business",
                }
            ]
        }
    )
    ticket = ingest()
    week = tuple(((9 * 60, 17 * 60),) if d < 5 else () for d in range(7))
    calendar = Calendar(tz="Europe/Berlin", week=week)
    # Friday 16:00 Berlin, 2026-10-23; DST ends Sunday 25th. Monday 16:59 is 8h59 business
    # hours later (1 on Friday, 7h59 on Monday) and 73h59 calendar hours (the fold's
    # repeated hour counts); Tuesday 09:30 is 9.5 business hours.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    ticket.created_at = datetime(2026, 10, 23, 16, 0, tzinfo=berlin)
    facts = Facts(ticket, now=datetime(2026, 10, 27, 9, 30, tzinfo=berlin))
    facts.__dict__["calendar"] = calendar
    assert cond(facts)
    facts = Facts(ticket, now=datetime(2026, 10, 26, 16, 59, tzinfo=berlin))
    facts.__dict__["calendar"] = calendar
    assert not cond(facts)
    assert facts.hours("hours_since_created", business=False) == pytest.approx(74 - 1 / 60)
