"""A webhook that keeps failing is disabled, its deliveries kept; enabling it sends them."""

import pytest

from tickets.integrations.models import Webhook, WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.webhooks.outbox import webhook_delivery_send, webhook_relay
from tickets.integrations.webhooks.services import webhook_enable, webhook_send_test

pytestmark = pytest.mark.django_db

Status = WebhookDeliveryStatus


@pytest.fixture
def strict(settings):
    settings.HELPDESK_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.HELPDESK_WEBHOOK_DISABLE_MIN_FAILING = 0
    return settings


def _fail(hook, receiver, times):
    receiver.script = [500] * times
    for _ in range(times):
        delivery = webhook_send_test(webhook=hook.webhook)
        webhook_delivery_send(delivery_id=delivery.pk)


def test_it_disables_after_n_failures_in_a_row_and_says_why(strict, hook, receiver):
    _fail(hook, receiver, 3)

    webhook = Webhook.objects.get(pk=hook.webhook.pk)
    assert not webhook.is_active and webhook.disabled_at is not None
    assert "3 failed attempts in a row" in webhook.disabled_reason
    assert "answered 500" in webhook.disabled_reason
    # Nothing is lost: the deliveries wait, and the relay leaves them alone meanwhile.
    waiting = WebhookDelivery.objects.filter(webhook=webhook)
    assert {d.status for d in waiting} == {Status.PENDING}
    waiting.update(next_attempt_at="2000-01-01T00:00Z")
    assert webhook_relay() == 0


def test_a_success_resets_the_count(strict, hook, receiver):
    _fail(hook, receiver, 2)
    delivery = webhook_send_test(webhook=hook.webhook)
    webhook_delivery_send(delivery_id=delivery.pk)
    _fail(hook, receiver, 2)

    webhook = Webhook.objects.get(pk=hook.webhook.pk)
    assert webhook.is_active and webhook.failure_count == 2


def test_a_short_outage_of_a_busy_receiver_does_not_disable_it(settings, hook, receiver):
    settings.HELPDESK_WEBHOOK_DISABLE_AFTER_FAILURES = 3  # failing for under an hour
    _fail(hook, receiver, 5)

    assert Webhook.objects.get(pk=hook.webhook.pk).is_active


def test_enabling_it_again_sends_what_waited(
    strict, hook, receiver, django_capture_on_commit_callbacks
):
    _fail(hook, receiver, 3)
    webhook = Webhook.objects.get(pk=hook.webhook.pk)
    with pytest.raises(Exception, match="disabled"):
        webhook_send_test(webhook=webhook)

    with django_capture_on_commit_callbacks(execute=True):
        webhook_enable(webhook=webhook)

    webhook.refresh_from_db()
    assert webhook.is_active and webhook.failure_count == 0 and not webhook.disabled_reason
    assert {d.status for d in WebhookDelivery.objects.filter(webhook=webhook)} == {Status.DELIVERED}
    assert len(receiver.received) == 6
