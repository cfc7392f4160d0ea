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


def test_it_writes_the_breach_notice_in_the_claims_transaction(
    make_policy, customer, agent, clock
) -> None:
    from django.db import transaction

    from channels_app.models import Delivery, DeliveryPurpose
    from tickets.models import SlaRecord
    from tickets.sla.timer import sla_process_due

    make_policy(notify_assignee=True)
    ticket = ticket_create(customer=customer, subject="Down", channel="email")
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    clock(berlin(2026, 3, 2, 11, 1))
    notices = Delivery.objects.filter(purpose=DeliveryPurpose.SLA_BREACH)

    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        assert sla_process_due().notifications == 1
        assert notices.count() == 1
        raise Undone

    assert notices.count() == 0  # the rollback took the notice with the claim
    assert not SlaRecord.objects.filter(ticket=ticket, notified_at__isnull=False).exists()
    assert sla_process_due().notifications == 1
    (notice,) = notices
    assert (notice.recipient, notice.dedup_key) == (
        agent.email,
        f"sla-breach:{ticket.pk}:first_response:{notice.context['record_id']}:{agent.email}",
    )
    assert sla_process_due().notifications == 0 and notices.count() == 1
