"""Customer notifications go through the outbox: deduplicated in the database, retried,
and written when sent."""

import pytest
from django.core import mail
from django.core.cache import cache

from channels_app.ingest import inbound_message_ingest
from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus
from tickets.portal.notifications import portal_link_enqueue, web_ticket_acknowledge

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, make_inbound):
    return inbound_message_ingest(message=make_inbound(external_id="n1")).ticket


def test_it_acknowledges_once_however_often_it_is_asked(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        web_ticket_acknowledge(ticket_id=ticket.pk, email="dana@example.com")
        web_ticket_acknowledge(ticket_id=ticket.pk, email="dana@example.com")  # a retried task

    (delivery,) = Delivery.objects.filter(purpose=DeliveryPurpose.ACKNOWLEDGEMENT)
    assert delivery.status == DeliveryStatus.SENT and delivery.message_id is None
    (sent,) = mail.outbox
    assert f"[#{ticket.number}] We received your request" in sent.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"


def test_it_acknowledges_a_ticket_whatever_the_cache_remembers_of_an_earlier_database(
    ticket, django_capture_on_commit_callbacks
):
    # The mark the old cache-based check left for a ticket with this id, before the
    # database was recreated while Redis kept its keys.
    cache.set(f"helpdesk:mail:web-ack:{ticket.pk}", 1, timeout=60)

    with django_capture_on_commit_callbacks(execute=True):
        web_ticket_acknowledge(ticket_id=ticket.pk, email="dana@example.com")

    assert len(mail.outbox) == 1


def test_it_makes_a_sign_in_link_when_sending_and_never_stores_it(
    customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        portal_link_enqueue(customer_id=customer.pk, email="dana@example.com")

    delivery = Delivery.objects.get(purpose=DeliveryPurpose.SIGN_IN_LINK)
    assert "/portal/login/" in mail.outbox[0].body
    assert "login" not in str(delivery.context) and delivery.status == DeliveryStatus.SENT


def test_it_skips_an_acknowledgement_the_address_opted_out_of_by_then(
    ticket, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    ticket.customer.identities.update(opted_out_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        web_ticket_acknowledge(ticket_id=ticket.pk, email="dana@example.com")

    delivery = Delivery.objects.get(purpose=DeliveryPurpose.ACKNOWLEDGEMENT)
    assert delivery.status == DeliveryStatus.SKIPPED and "no automatic mail" in delivery.last_error
    assert mail.outbox == []


def test_it_queues_an_acknowledgement_while_the_broker_is_down_and_the_relay_sends_it(
    ticket, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from channels_app.delivery import delivery_relay
    from channels_app.tasks import delivery_send_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(delivery_send_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        web_ticket_acknowledge(ticket_id=ticket.pk, email="dana@example.com")
    assert mail.outbox == []  # stored, not sent: the broker refused the enqueue
    monkeypatch.undo()

    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        delivery_relay()

    assert len(mail.outbox) == 1


def test_it_notifies_an_agent_through_the_outbox(
    lead, other_agent, make_inbound, django_capture_on_commit_callbacks
):
    from tickets.services import ticket_assign

    ticket = inbound_message_ingest(message=make_inbound(external_id="n2")).ticket
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, agent=other_agent, actor=lead)

    delivery = Delivery.objects.get(purpose=DeliveryPurpose.AGENT_NOTIFICATION)
    assert delivery.recipient == other_agent.email and delivery.status == DeliveryStatus.SENT
    assert "Assigned to you" in mail.outbox[0].subject
    assert f"/agent/tickets/{ticket.number}/" in mail.outbox[0].body
