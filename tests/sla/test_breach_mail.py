"""The SLA breach mail names the target and links to the ticket."""

import pytest

from tickets.services import ticket_assign, ticket_create

from .conftest import berlin

pytestmark = pytest.mark.django_db


def test_it_links_the_breach_mail_to_the_ticket(
    make_policy, customer, agent, clock, mailoutbox, settings, django_capture_on_commit_callbacks
) -> None:
    from tickets.sla.timer import sla_process_due

    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    make_policy(notify_assignee=True)
    ticket = ticket_create(customer=customer, subject="Down", channel="email")
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    clock(berlin(2026, 3, 2, 11, 1))

    with django_capture_on_commit_callbacks(execute=True):
        sla_process_due()

    (sent,) = mailoutbox
    assert "first response target" in sent.body
    assert f"Open it: https://desk.example.com/agent/tickets/{ticket.number}/\n" in sent.body
