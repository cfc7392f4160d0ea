from typing import Any

from celery import shared_task
from django.utils import timezone

from helpdesk.lib.locks import single_run
from tickets.integrations.idempotency import idempotency_purge


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_send_task(self: Any, delivery_id: int) -> str:
    from tickets.integrations.webhooks.outbox import COUNTDOWN_MAX, webhook_delivery_send

    outcome = webhook_delivery_send(delivery_id=delivery_id)
    retry_in = outcome.retry_in
    if retry_in is not None and retry_in <= COUNTDOWN_MAX and not self.request.is_eager:
        # A short wait is retried here; a longer one by the relay (a countdown past the
        # broker's visibility timeout would be delivered twice). Run eagerly (tests) the
        # retry would fire at once, before the row is due.
        raise self.retry(countdown=retry_in)
    return outcome.status


@shared_task(acks_late=True)
def webhook_relay_task() -> int:
    """Beat, every 30 s: deliveries whose enqueue was lost or whose worker died."""
    from tickets.integrations.webhooks.outbox import webhook_relay

    # A second beat (misconfiguration) must not double the work: one run per window.
    with single_run("webhook-relay", ttl=25) as acquired:
        if not acquired:
            return 0
        return webhook_relay()


@shared_task(acks_late=True)
def webhook_log_purge_task() -> int:
    """Beat, daily: finished webhook deliveries past HELPDESK_WEBHOOK_LOG_DAYS."""
    from tickets.integrations.webhooks.outbox import webhook_log_purge

    with single_run("webhook-log-purge", ttl=3600) as acquired:
        if not acquired:
            return 0
        return webhook_log_purge()


@shared_task(acks_late=True)
def idempotency_purge_task() -> int:
    """Beat, daily: idempotency keys past their 24 h (safe to run twice: a delete)."""
    return idempotency_purge(now=timezone.now())
