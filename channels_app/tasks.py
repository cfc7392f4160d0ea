from typing import Any

from celery import shared_task

from helpdesk.locks import single_run


@shared_task(bind=True, acks_late=True, max_retries=None)
def delivery_send_task(self: Any, delivery_id: int) -> str:
    from channels_app.delivery import delivery_send

    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.retry_in is not None and not self.request.is_eager:
        # Bounded well under the broker's visibility timeout (see settings). Run eagerly
        # (tests, CELERY_TASK_ALWAYS_EAGER) a retry would fire at once, before the row is
        # due, and raise into the committing caller; the relay picks the row up instead.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True)
def delivery_relay_task() -> int:
    from channels_app.delivery import delivery_relay

    # A second beat (misconfiguration) must not double the work: one run per window.
    with single_run("delivery-relay", ttl=50) as acquired:
        if not acquired:
            return 0
        return delivery_relay()


@shared_task(acks_late=True)
def raw_inbound_process_task(raw_id: int) -> None:
    from channels_app.ingest import raw_inbound_process

    raw_inbound_process(raw_id=raw_id)
