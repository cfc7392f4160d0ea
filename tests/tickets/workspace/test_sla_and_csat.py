"""SLA state and satisfaction ratings as agents see them in the workspace."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tickets.models import SatisfactionRating, SlaRecord
from tickets.selectors import TicketFilters, ticket_list

pytestmark = pytest.mark.django_db


def _clock(ticket: Any, *, due_in: timedelta, breached: bool = False) -> None:
    now = timezone.now()
    ticket.sla_next_due_at = now + due_in
    ticket.save(update_fields=["sla_next_due_at"])
    SlaRecord.objects.create(
        ticket=ticket,
        kind="first_response",
        priority=ticket.priority,
        target_minutes=240,
        state="running",
        started_at=now - timedelta(hours=1),
        due_at=now + due_in,
        breached_at=now + due_in if breached else None,
    )


def test_it_shows_each_rows_sla_state_in_the_queue(agent_client: Client, make_ticket: Any) -> None:
    late, fine, none = make_ticket("Late one"), make_ticket("Fine one"), make_ticket("No SLA")
    _clock(late, due_in=-timedelta(minutes=90), breached=True)
    _clock(fine, due_in=timedelta(hours=3))

    html = agent_client.get("/agent/?view=open").content.decode()

    # Rows are compact: the target's name is in the tooltip.
    assert 'class="sla sla-breached" title="First reply' in html and ">Overdue 1h 30m<" in html
    assert 'class="sla sla-ok" title="First reply' in html and ">In 2h 59m<" in html
    assert 'title="No SLA applies"' in html  # the third row
    assert none.subject in html


def test_it_lists_the_most_urgent_first_in_the_sla_at_risk_view(
    agent_client: Client, make_ticket: Any
) -> None:
    later, sooner, safe = make_ticket("Later"), make_ticket("Sooner"), make_ticket("Safe")
    _clock(later, due_in=-timedelta(minutes=5), breached=True)
    _clock(sooner, due_in=-timedelta(hours=2), breached=True)
    _clock(safe, due_in=timedelta(hours=5))

    page = agent_client.get("/agent/?view=at_risk")

    assert [t.pk for t in page.context["page"].items] == [sooner.pk, later.pk]
    assert page.context["sort"] == "sla"


def test_it_pages_by_sla_due_time_with_tickets_without_a_clock_last(make_ticket: Any) -> None:
    tickets = [make_ticket(f"T{i}") for i in range(5)]
    for hours, ticket in zip((4, 1, 3), tickets, strict=False):
        _clock(ticket, due_in=timedelta(hours=hours))

    seen, cursor = [], None
    while True:
        page = ticket_list(filters=TicketFilters(), sort="sla", limit=2, cursor=cursor)
        seen += [t.pk for t in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen[:3] == [tickets[1].pk, tickets[2].pk, tickets[0].pk]
    assert sorted(seen[3:]) == sorted([tickets[3].pk, tickets[4].pk])


def test_it_shows_the_sla_in_the_header_and_ratings_in_the_sidebar(
    agent_client: Client, make_ticket: Any
) -> None:
    ticket, earlier = make_ticket("Now"), make_ticket("Before")
    _clock(ticket, due_in=timedelta(minutes=30))
    SatisfactionRating.objects.create(
        ticket=earlier, customer=earlier.customer, score=2, comment="<script>alert(1)</script>"
    )

    html = agent_client.get(f"/agent/tickets/{ticket.number}/").content.decode()

    assert 'class="sla sla-ok"' in html and "First reply in 29m" in html
    assert f'#{earlier.number}</a> <span class="badge badge-open">2/5</span>' in html
    assert "<script>alert(1)</script>" not in html
