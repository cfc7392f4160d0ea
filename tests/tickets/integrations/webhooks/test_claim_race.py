"""Two workers claim one delivery at the same moment: only one of them sends it."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tickets.integrations.models import WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.webhooks.outbox import webhook_delivery_send
from tickets.integrations.webhooks.services import webhook_create

pytestmark = pytest.mark.django_db(transaction=True)


def _a_claim_waits_on_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s",
            ['UPDATE "integrations_webhookdelivery"%'],
        )
        return bool(cursor.fetchone()[0])


def test_a_worker_that_waited_on_the_row_lock_does_not_claim_it_too(receiver):
    hook = webhook_create(name="CRM", url=receiver.url, events=["ticket.created"])
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        webhook=hook.webhook, event_id="evt_race", event_type="ticket.created", payload={},
        next_attempt_at=now, give_up_at=now + timedelta(hours=1),
    )  # fmt: skip
    outcome: list[str] = []

    def second_worker() -> None:
        try:
            outcome.append(webhook_delivery_send(delivery_id=delivery.pk).status)
        finally:
            connections.close_all()

    other = threading.Thread(target=second_worker)
    with transaction.atomic():
        # The first worker's claim, not committed yet: it holds the row.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDeliveryStatus.SENDING, attempts=1
        )
        other.start()
        deadline = time.monotonic() + 30
        while not _a_claim_waits_on_a_row_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
    other.join(timeout=30)

    assert outcome == [WebhookDeliveryStatus.SENDING]  # it found the row taken
    assert receiver.received == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1
