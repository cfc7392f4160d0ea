"""The facts the subscribers keep, ticket by ticket, against what the generator did."""

import pytest

from tests.tickets.reports.history import business_minutes_brute
from tickets.reports.models import TicketFacts

pytestmark = pytest.mark.django_db


def _minutes(start, end):
    return None if end is None else (end - start).total_seconds() / 60


def test_it_keeps_one_row_per_ticket_true_to_the_history(history):
    facts = {f.ticket_id: f for f in TicketFacts.objects.all()}
    assert facts.keys() == history.truths.keys()
    for truth in history.truths.values():
        row = facts[truth.ticket_id]
        first, solved = truth.first_reply, truth.solved_at
        expected = {
            "created_at": truth.created_at,
            "channel": truth.channel,
            "team_id": truth.team_id,
            "assignee_id": truth.assignee_id,
            "priority": truth.priority,
            "first_public_reply_at": first,
            "first_response_minutes": _minutes(truth.created_at, first),
            "first_response_business_minutes": (
                None if first is None else business_minutes_brute(truth.created_at, first)
            ),
            "solved_at": solved,
            "resolution_minutes": _minutes(truth.created_at, solved),
            "resolution_business_minutes": (
                None if solved is None else business_minutes_brute(truth.created_at, solved)
            ),
            "solved_count": truth.solves,
            "reopened_count": truth.reopens,
            "public_agent_replies": len(truth.replies),
            "agent_touches": len(truth.replies) + truth.notes,
            "satisfaction_score": truth.score,
            "merged": truth.merged,
        }
        actual = {name: getattr(row, name, None) for name in expected}
        actual["merged"] = row.merged_into_id is not None
        if truth.closed_at is not None:
            assert row.closed_at == truth.closed_at, truth
        assert actual == expected, truth.ticket_id


def test_it_has_every_edge_case_in_the_history(history):
    """The generated history holds what the definitions are about."""
    truths = list(history.truths.values())
    assert any(t.reopens for t in truths)
    assert any(t.merged for t in truths)
    assert any(t.notes and not t.replies for t in truths)
    assert any(t.score is not None for t in truths)
    assert any(t.status == "closed" for t in truths)
    assert any(t.solves and len(t.replies) == 1 and not t.reopens for t in truths)


def test_an_erased_customers_tickets_keep_counting_anonymously(history):
    from tickets.models import Ticket
    from tickets.privacy import customer_erase

    truth = next(t for t in history.truths.values() if t.replies and not t.merged)
    before = TicketFacts.objects.get(ticket_id=truth.ticket_id)
    customer_erase(Ticket.objects.get(pk=truth.ticket_id).customer, actor=None)
    after = TicketFacts.objects.get(ticket_id=truth.ticket_id)
    assert after.public_agent_replies == before.public_agent_replies == len(truth.replies)
    assert after.first_public_reply_at == before.first_public_reply_at
    assert after.satisfaction_score == before.satisfaction_score


def test_a_failing_change_leaves_the_facts_as_they_were(ticket, agent):
    """The facts are written in the change's transaction: a change that rolls back takes
    its facts with it."""
    from django.db import transaction

    from tickets.models import Status
    from tickets.services import message_reply, ticket_set_status

    message_reply(ticket=ticket, author=agent, body_text="On it.")
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
        assert TicketFacts.objects.get(ticket=ticket).solved_at is not None
        raise RuntimeError("the request failed after the solve")
    facts = TicketFacts.objects.get(ticket=ticket)
    assert facts.solved_at is None and facts.solved_count == 0
    assert facts.public_agent_replies == 1
