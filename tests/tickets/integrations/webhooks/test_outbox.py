"""The outbox's promises: a delivery per event and webhook, written with the change;
sent once however often it is kicked; sent again after a worker died mid-send; kept
pending while the receiver is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tickets.integrations.webhooks.conftest import Receiver
from tickets.domain_events import Actor, TicketCreated
from tickets.integrations.models import WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.tasks import webhook_send_task
from tickets.integrations.webhooks.outbox import (
    RESENT_NOTE,
    deliveries_for_event,
    webhook_relay,
)
from tickets.integrations.webhooks.services import webhook_create, webhook_send_test
from tickets.models import Channel
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

Status = WebhookDeliveryStatus


def test_one_delivery_per_subscribed_webhook_and_none_for_the_others(
    hook, receiver, customer, agent
):
    other = webhook_create(name="Shop", url=receiver.url, events=["ticket.created"])
    webhook_create(name="Notes", url=receiver.url, events=["message.created"])

    ticket = ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)

    created = WebhookDelivery.objects.filter(event_type="ticket.created")
    assert {d.webhook_id for d in created} == {hook.webhook.pk, other.webhook.pk}
    assert len({d.event_id for d in created}) == 1
    assert created[0].payload["data"]["ticket"]["id"] == ticket.pk


def test_the_same_event_handed_over_twice_is_written_once(hook, customer, agent):
    ticket = ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)
    event = TicketCreated(
        actor=Actor.system(), ticket_id=ticket.pk, customer_id=customer.pk, channel="email"
    )
    before = WebhookDelivery.objects.count()

    deliveries_for_event(event)
    deliveries_for_event(event)

    assert WebhookDelivery.objects.count() == before + 1


def test_a_kick_that_runs_twice_sends_once(hook, receiver):
    delivery = webhook_send_test(webhook=hook.webhook)  # its kick waits for a commit

    assert webhook_send_task.apply(args=(delivery.pk,)).get() == Status.DELIVERED
    assert webhook_send_task.apply(args=(delivery.pk,)).get() == Status.DELIVERED

    assert len(receiver.received) == 1


def test_a_delivery_cut_off_mid_send_goes_out_again_once_with_the_same_id(hook, receiver):
    delivery = webhook_send_test(webhook=hook.webhook)
    # A worker claimed it and was killed before it could record the answer.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, attempts=1, updated_at=timezone.now() - timedelta(minutes=10)
    )

    assert webhook_relay() == 1
    assert webhook_relay() == 0  # a second sweep finds nothing to do

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 2
    assert delivery.last_error == RESENT_NOTE
    [request] = receiver.received
    assert request.headers["webhook-id"] == delivery.event_id


def test_a_delivery_being_sent_now_is_left_alone(hook, receiver):
    delivery = webhook_send_test(webhook=hook.webhook)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, attempts=1, updated_at=timezone.now()
    )

    assert webhook_relay() == 0
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == Status.SENDING
    assert receiver.received == []


def test_a_worker_that_dies_on_every_attempt_stops_once_the_window_is_over(hook, receiver):
    delivery = webhook_send_test(webhook=hook.webhook)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, attempts=9, updated_at=timezone.now() - timedelta(minutes=10),
        give_up_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip

    webhook_relay()

    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and "may or may not" in delivery.last_error
    assert receiver.received == []


def test_the_relay_sends_what_lost_its_kick_and_leaves_what_is_not_due(hook, receiver):
    lost = webhook_send_test(webhook=hook.webhook)
    later = webhook_send_test(webhook=hook.webhook)
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=now - timedelta(minutes=5))
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(minutes=5))

    assert webhook_relay() == 1

    assert WebhookDelivery.objects.get(pk=lost.pk).status == Status.DELIVERED
    assert WebhookDelivery.objects.get(pk=later.pk).status == Status.PENDING
    assert [r.headers["webhook-id"] for r in receiver.received] == [lost.event_id]


def test_nothing_is_lost_while_the_receiver_is_down(
    down_url, admin_user, customer, agent, django_capture_on_commit_callbacks
):
    hook = webhook_create(name="CRM", url=down_url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            ticket_create(customer=customer, subject=f"Lamp {n}", channel=Channel.EMAIL,
                          actor=agent)  # fmt: skip

    waiting = WebhookDelivery.objects.filter(webhook=hook.webhook)
    assert [d.status for d in waiting] == [Status.PENDING] * 3
    assert all("Connection" in d.last_error for d in waiting)

    port = int(down_url.split(":")[2].split("/")[0])
    back = Receiver(port=port).start()
    try:
        waiting.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
        assert webhook_relay() == 3
    finally:
        back.stop()
    assert {d.status for d in waiting} == {Status.DELIVERED}
    subjects = sorted(r.json["data"]["ticket"]["subject"] for r in back.received)
    assert subjects == ["Lamp 0", "Lamp 1", "Lamp 2"]


def test_a_worker_retries_a_short_wait_itself_and_leaves_a_long_one_to_the_relay(hook, receiver):
    from celery.exceptions import Retry

    receiver.script = [503, 503]
    short = webhook_send_test(webhook=hook.webhook)
    with pytest.raises(Retry):
        webhook_send_task.run(short.pk)  # as a worker runs it: not eagerly

    long = webhook_send_test(webhook=hook.webhook)
    WebhookDelivery.objects.filter(pk=long.pk).update(attempts=8)  # the next wait is hours
    assert webhook_send_task.run(long.pk) == Status.PENDING
    assert WebhookDelivery.objects.get(pk=long.pk).next_attempt_at > timezone.now() + timedelta(
        minutes=30
    )


def test_the_daily_purge_deletes_finished_deliveries_past_the_log_days_only(settings, hook):
    from tickets.integrations.webhooks.outbox import webhook_log_purge

    settings.HELPDESK_WEBHOOK_LOG_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    rows = {status: webhook_send_test(webhook=hook.webhook) for status in Status.values}
    for status, row in rows.items():
        WebhookDelivery.objects.filter(pk=row.pk).update(status=status, created_at=old)
    recent = webhook_send_test(webhook=hook.webhook)
    WebhookDelivery.objects.filter(pk=recent.pk).update(status=Status.DELIVERED)

    assert webhook_log_purge(batch_size=1) == 2

    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {rows[Status.PENDING].pk, rows[Status.SENDING].pk, recent.pk}


def test_an_event_about_something_gone_writes_nothing_and_fails_nothing(hook):
    from django.db import transaction

    from tickets.domain_events import publish

    with transaction.atomic():
        publish(TicketCreated(actor=Actor.system(), ticket_id=987654, customer_id=1,
                              channel="email"))  # fmt: skip

    assert not WebhookDelivery.objects.exists()
