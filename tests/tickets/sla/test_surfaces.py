"""What agents see: a ticket's SLA state, the at-risk queue, and the SLA report."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from tests.factories import TeamFactory
from tickets.models import Status
from tickets.services import message_reply, ticket_create, ticket_set_status
from tickets.sla.selectors import sla_at_risk, sla_state
from tickets.sla.timer import sla_process_due

from .conftest import berlin

pytestmark = pytest.mark.django_db

REPORT = "/agent/reports/sla/"


def new_ticket(customer: Any, **kwargs: Any) -> Any:
    return ticket_create(customer=customer, subject="Help", channel="email", **kwargs)


def test_it_reports_state_ok_warning_breached_and_paused(customer, policy, agent, clock):
    ticket = new_ticket(customer)
    state = sla_state(ticket=ticket)
    assert (state.target, state.state, state.business_minutes_left) == ("first_response", "ok", 60)
    clock(berlin(2026, 3, 2, 10, 50))
    sla_process_due()
    assert sla_state(ticket=ticket).state == "warning"
    clock(berlin(2026, 3, 2, 11, 5))
    sla_process_due()
    state = sla_state(ticket=ticket)
    assert (state.state, state.business_minutes_left) == ("breached", -5)
    message_reply(ticket=ticket, author=agent, body_text="Wait", set_status=Status.PENDING)
    ticket.refresh_from_db()
    state = sla_state(ticket=ticket)
    assert (state.state, state.target, state.due_at) == ("paused", "resolution", None)
    assert state.business_minutes_left == 480 - 65


def test_it_has_no_state_without_a_policy(customer, clock) -> None:
    assert sla_state(ticket=new_ticket(customer)) is None


def test_it_lists_at_risk_tickets_most_urgent_first(
    customer, policy, clock, django_assert_num_queries
) -> None:
    calm = new_ticket(customer)
    clock(berlin(2026, 3, 2, 10, 5))
    late = new_ticket(customer)
    clock(berlin(2026, 3, 2, 10, 20))
    later = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 2))  # calm/late breached, later warned (at 11:08 no)
    sla_process_due()
    rows = list(sla_at_risk())
    assert rows[:2] == [calm, late]
    assert calm in rows and later not in rows
    clock(berlin(2026, 3, 2, 11, 9))
    sla_process_due()
    with django_assert_num_queries(1):
        rows = [(t.number, t.customer.name, t.team) for t in sla_at_risk()]
    assert len(rows) == 3


def test_it_keeps_solved_tickets_out_of_the_at_risk_queue(customer, policy, agent, clock):
    ticket = new_ticket(customer)
    clock(berlin(2026, 3, 2, 11, 5))
    sla_process_due()
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    assert list(sla_at_risk()) == []


@pytest.fixture
def report_data(customer, policy, agent, clock) -> None:
    team = TeamFactory(name="Billing")
    met = new_ticket(customer, team=team)
    late = new_ticket(customer, team=team, priority="high")
    clock(berlin(2026, 3, 2, 10, 30))
    message_reply(ticket=met, author=agent, body_text="Hi")
    clock(berlin(2026, 3, 2, 11, 30))
    sla_process_due()
    assert late.pk


def test_it_shows_compliance_and_breaches_to_admins(client, admin_user, report_data, clock):
    client.force_login(admin_user)
    page = client.get(REPORT, {"start": "2026-03-01", "end": "2026-03-03"}).content.decode()
    assert "Standard" in page and "First response" in page
    assert "50.0 %" in page  # one met in time, one breached
    assert "Billing: 1" in page and "High: 1" in page
    assert page.count('class="sla-day"') == 3


def test_it_exports_csv(client, admin_user, report_data) -> None:
    client.force_login(admin_user)
    response = client.get(REPORT, {"start": "2026-03-01", "end": "2026-03-03", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "policy,target,total,met,breached,compliance_percent"
    assert "Standard,First response,2,1,1,50.0" in lines


def test_it_lets_agents_in_only_with_the_report_permission(client, agent, clock) -> None:
    client.force_login(agent)
    assert client.get(REPORT).status_code == 403
    agent.user_permissions.add(Permission.objects.get(codename="view_sla_report"))
    agent = type(agent).objects.get(pk=agent.pk)  # drop the permission cache
    client.force_login(agent)
    assert client.get(REPORT).status_code == 200


def test_it_sends_strangers_to_log_in(client) -> None:
    assert client.get(REPORT).status_code == 302


def test_it_explains_a_bad_period(client, admin_user, clock) -> None:
    client.force_login(admin_user)
    page = client.get(REPORT, {"start": "yesterday"}).content.decode()
    assert "Dates must look like 2026-03-01" in page
    page = client.get(REPORT, {"start": "2026-03-05", "end": "2026-03-01"}).content.decode()
    assert "ends before it starts" in page


@pytest.mark.parametrize("count", [1, 6])
def test_it_reads_sla_state_for_a_list_in_constant_queries(
    customer, policy, clock, django_assert_num_queries, count
) -> None:
    from tickets.models import Ticket
    from tickets.sla.selectors import sla_states

    for _ in range(count):
        new_ticket(customer)
    tickets = list(Ticket.objects.all())
    # records, policy, intervals, holidays: the same four for 1 or 6 rows.
    with django_assert_num_queries(4):
        states = sla_states(tickets=tickets)
    assert [states[t.pk].state for t in tickets] == ["ok"] * count


def test_it_reads_sla_states_for_a_page_like_sla_state_in_constant_queries(
    customer, make_policy, office, agent, clock, django_assert_num_queries
) -> None:
    """sla_states (the queue's batch read) agrees with sla_state ticket by ticket: ok,
    warning, breached, paused, no SLA, and a second policy on its own 24/7 calendar."""
    from tickets.models import BusinessHours, Holiday, Ticket
    from tickets.sla.selectors import sla_states

    Holiday.objects.create(calendar=office, date=berlin(2026, 3, 3).date())
    make_policy(name="Office")
    make_policy(
        name="Urgent around the clock",
        order=1,
        first=30,
        priorities=("urgent",),
        priority="urgent",
        business_hours=BusinessHours.objects.create(name="Always", always_open=True),
    )

    def page() -> list[Any]:
        return list(Ticket.objects.order_by("pk"))

    def states_one_by_one() -> list[Any]:
        return [sla_state(ticket=t) for t in page()]

    ok = new_ticket(customer)
    tickets = page()
    with django_assert_num_queries(4):  # clocks, policies, intervals, holidays
        few = sla_states(tickets=tickets)
    assert list(few.values()) == states_one_by_one()
    new_ticket(customer, priority="urgent")
    clock(berlin(2026, 3, 2, 10, 50))
    sla_process_due()
    warned = new_ticket(customer)
    message_reply(ticket=warned, author=agent, body_text="Wait", set_status=Status.PENDING)
    clock(berlin(2026, 3, 2, 11, 5))
    sla_process_due()
    Ticket.objects.filter(pk=ok.pk).update(sla_policy=None)  # its policy was deleted
    for _ in range(3):
        new_ticket(customer)
    tickets = page()
    with django_assert_num_queries(4):
        many = sla_states(tickets=tickets)
    assert list(many.values()) == states_one_by_one()
    assert {s.state for s in many.values() if s} == {"ok", "breached", "paused"}
    with django_assert_num_queries(0):
        assert sla_states(tickets=[]) == {}


def test_it_lists_the_beat_schedule_in_the_admin(client, admin_user) -> None:
    from helpdesk.setup import periodic_tasks_ensure

    periodic_tasks_ensure()
    client.force_login(admin_user)
    page = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "SLA timer tick" in page
