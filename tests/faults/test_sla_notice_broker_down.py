"""The broker is unreachable when the SLA tick claims a breach notice: the claim and the
notice's outbox row commit together, nothing is sent then, and the delivery relay sends
the notice exactly once after Redis returns."""

import pytest

from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory
from tests.faults.conftest import wait_for
from tests.faults.test_concurrent_sweeps import _policy
from tickets.models import Channel, SlaRecord
from tickets.services import ticket_assign, ticket_create

pytestmark = pytest.mark.timeout(150)

TICK = """
from datetime import timedelta
from django.utils import timezone
from tickets.sla.timer import sla_process_due
result = sla_process_due(now=timezone.now() + timedelta(days=2))
print("notifications", result.notifications)
"""


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_breach_notice_claimed_while_the_broker_was_down(
    stack, private_redis, smtp_sink
):
    _policy()
    agent = AgentFactory(email="sam@staff.example")
    customer = CustomerFactory()
    IdentityFactory(customer=customer, value="late@example.com")
    ticket = ticket_create(customer=customer, subject="Late", channel=Channel.EMAIL)
    ticket_assign(ticket=ticket, agent=agent, actor=agent)

    private_redis.stop()
    out = stack.run(TICK)
    assert "notifications 2" in out, out  # first response and resolution breached
    assert SlaRecord.objects.filter(ticket=ticket, notified_at__isnull=False).count() == 2
    notices = Delivery.objects.filter(purpose=DeliveryPurpose.SLA_BREACH)
    assert notices.count() == 2
    assert set(notices.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}
    assert smtp_sink.envelopes == []

    private_redis.start()
    stack.worker("worker", concurrency=1)
    relay = "from channels_app.delivery import delivery_relay; delivery_relay()"
    stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="0")
    wait_for(
        lambda: notices.filter(status=DeliveryStatus.SENT).count() == 2,
        60,
        "the relay to send the notices",
        every=0.2,
    )
    stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="0")  # a second relay sends nothing more
    assert "notifications 0" in stack.run(TICK)  # claimed once: a later tick sends none
    breach_mails = [e for e in smtp_sink.envelopes if "sam@staff.example" in e.rcpt_tos]
    assert len(breach_mails) == 2
