"""Celery tasks: take ids, call one service, safe to run twice.

Notifications go out through the outbox (channels_app.notifications). The first two
tasks have no caller in this code: a broker can still hold messages of their names
from an older release, and each one writes its outbox row, deduplicated where a repeat
would be a second mail, so such a message is neither lost nor sent twice.
"""

from celery import shared_task
from django.db import transaction


@shared_task(acks_late=True)
def web_acknowledgement_send_task(ticket_id: int, email: str) -> None:
    from tickets.portal.notifications import web_ticket_acknowledge

    with transaction.atomic():
        web_ticket_acknowledge(ticket_id=ticket_id, email=email)


@shared_task(acks_late=True)
def portal_link_send_task(customer_id: int, email: str) -> None:
    from tickets.portal.notifications import portal_link_enqueue

    with transaction.atomic():
        portal_link_enqueue(customer_id=customer_id, email=email)


@shared_task(acks_late=True)
def satisfaction_request_send_task(ticket_id: int) -> bool:
    from tickets.portal.notifications import satisfaction_request_send

    return satisfaction_request_send(ticket_id=ticket_id)


@shared_task(acks_late=True, ignore_result=True)
def satisfaction_requests_due_task() -> int:
    """The periodic tick (helpdesk.setup.PERIODIC_TASKS): queue the requests now due."""
    from tickets.portal.notifications import satisfaction_requests_send_due

    return satisfaction_requests_send_due()
