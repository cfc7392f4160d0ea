import pytest

from tests.factories import TeamFactory
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import Channel, EventKind, Priority, Status, TicketEvent
from tickets.services import (
    ticket_assign,
    ticket_create,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_team,
    ticket_tags_change,
)

pytestmark = pytest.mark.django_db


def _events(ticket, kind):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).values_list("data", flat=True))


def test_it_numbers_tickets_and_records_their_creation(customer, agent):
    a = ticket_create(customer=customer, subject=" Help ", channel=Channel.WEB, actor=agent)
    b = ticket_create(customer=customer, subject="", channel=Channel.WEB)

    assert a.number and b.number and a.number != b.number
    assert a.subject == "Help" and b.subject == "(no subject)"
    assert _events(a, EventKind.CREATED) == [{"channel": "web"}]


def test_it_inserts_a_ticket_with_its_number_and_never_updates_it_after(customer, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.HELPDESK_TICKET_NUMBER_START = 5000
    with CaptureQueriesContext(connection) as context:
        ticket = ticket_create(customer=customer, subject="Help", channel=Channel.WEB)

    ticket.refresh_from_db()
    assert ticket.number == 5000 + ticket.pk
    sql = [q["sql"] for q in context.captured_queries]
    assert any(s.startswith('INSERT INTO "tickets_ticket"') for s in sql)
    assert not any(s.startswith('UPDATE "tickets_ticket"') for s in sql)
    follower = ticket_create(customer=customer, subject="Next", channel=Channel.WEB)
    assert follower.number == 5000 + follower.pk and follower.pk > ticket.pk


def test_it_refuses_unknown_status_and_priority_at_creation(customer):
    with pytest.raises(TicketError) as exc:
        ticket_create(customer=customer, subject="x", channel=Channel.WEB, priority="asap")
    assert exc.value.code == TicketErrorCode.INVALID_PRIORITY
    with pytest.raises(TicketError) as exc:
        ticket_create(customer=customer, subject="x", channel=Channel.WEB, status="done")
    assert exc.value.code == TicketErrorCode.INVALID_STATUS


def test_it_assigns_to_an_agent_and_records_from_and_to(ticket, agent, other_agent, lead):
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    ticket_assign(ticket=ticket, agent=other_agent, actor=lead)
    ticket_assign(ticket=ticket, agent=None, actor=lead)

    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert _events(ticket, EventKind.ASSIGNED) == [
        {"from": None, "to": agent.pk},
        {"from": agent.pk, "to": other_agent.pk},
        {"from": other_agent.pk, "to": None},
    ]


def test_it_refuses_to_assign_a_non_agent(ticket, agent, django_user_model):
    outsider = django_user_model.objects.create_user("outsider")

    with pytest.raises(TicketError) as exc:
        ticket_assign(ticket=ticket, agent=outsider, actor=agent)

    assert exc.value.code == TicketErrorCode.NOT_AN_AGENT
    assert not _events(ticket, EventKind.ASSIGNED)


def test_it_records_nothing_when_nothing_changes(ticket, agent):
    ticket_assign(ticket=ticket, agent=None, actor=agent)
    ticket_set_status(ticket=ticket, status=Status.NEW, actor=agent)
    ticket_set_priority(ticket=ticket, priority=Priority.NORMAL, actor=agent)
    ticket_set_team(ticket=ticket, team=None, actor=agent)
    ticket_tags_change(ticket=ticket, actor=agent, remove=["absent"])

    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        EventKind.CREATED
    ]


def test_it_changes_status_with_solved_and_closed_times(ticket, agent):
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
    ticket.refresh_from_db()
    assert ticket.solved_at is not None

    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)
    ticket.refresh_from_db()
    assert ticket.solved_at is None

    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent)
    ticket.refresh_from_db()
    assert ticket.closed_at is not None and ticket.solved_at is not None
    assert _events(ticket, EventKind.STATUS) == [
        {"from": "new", "to": "solved"},
        {"from": "solved", "to": "open"},
        {"from": "open", "to": "closed"},
    ]


def test_it_refuses_to_change_a_closed_ticket_or_an_unknown_status(ticket, agent):
    with pytest.raises(TicketError) as exc:
        ticket_set_status(ticket=ticket, status="done", actor=agent)
    assert "Use one of" in exc.value.message

    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent)
    with pytest.raises(TicketError) as exc:
        ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)
    assert exc.value.code == TicketErrorCode.INVALID_STATUS
    assert "follow-up" in exc.value.message


def test_it_changes_priority_with_an_event(ticket, agent):
    ticket_set_priority(ticket=ticket, priority=Priority.URGENT, actor=agent)

    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert _events(ticket, EventKind.PRIORITY) == [{"from": "normal", "to": "urgent"}]
    with pytest.raises(TicketError) as exc:
        ticket_set_priority(ticket=ticket, priority="asap", actor=agent)
    assert exc.value.code == TicketErrorCode.INVALID_PRIORITY


def test_it_moves_a_ticket_between_teams_with_an_event(ticket, agent):
    billing, shipping = TeamFactory(name="Billing"), TeamFactory(name="Shipping")

    ticket_set_team(ticket=ticket, team=billing, actor=agent)
    ticket_set_team(ticket=ticket, team=shipping, actor=agent)

    ticket.refresh_from_db()
    assert ticket.team == shipping
    assert _events(ticket, EventKind.TEAM) == [
        {"from": None, "to": billing.pk},
        {"from": billing.pk, "to": shipping.pk},
    ]


def test_it_adds_and_removes_normalized_tags_with_an_event(ticket, agent):
    ticket_tags_change(ticket=ticket, actor=agent, add=["VIP", "late delivery", "vip"])
    ticket_tags_change(ticket=ticket, actor=agent, remove=["vip"])

    assert list(ticket.tags.values_list("name", flat=True)) == ["late-delivery"]
    assert _events(ticket, EventKind.TAGS) == [
        {"added": ["late-delivery", "vip"], "removed": []},
        {"added": [], "removed": ["vip"]},
    ]


def test_it_refuses_a_tag_with_odd_characters(ticket, agent):
    with pytest.raises(TicketError) as exc:
        ticket_tags_change(ticket=ticket, actor=agent, add=["<b>bold</b>"])

    assert exc.value.code == TicketErrorCode.INVALID_TAG
    assert not ticket.tags.exists()


def test_it_touches_updated_at_on_every_change(ticket, agent):
    before = ticket.updated_at

    ticket_set_priority(ticket=ticket, priority=Priority.HIGH, actor=agent)

    ticket.refresh_from_db()
    assert ticket.updated_at > before
