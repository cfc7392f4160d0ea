from celery import shared_task
from django.utils import timezone

from tickets.integrations.idempotency import idempotency_purge


@shared_task(acks_late=True)
def idempotency_purge_task() -> int:
    return idempotency_purge(now=timezone.now())
