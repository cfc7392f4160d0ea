"""Celery tasks: take ids, call one notification, safe to run twice."""

from typing import Any

from celery import shared_task

RETRY_SECONDS = 120


@shared_task(bind=True, acks_late=True, max_retries=5)
def web_acknowledgement_send_task(self: Any, ticket_id: int, email: str) -> bool:
    from tickets.portal.notifications import web_acknowledgement_send

    try:
        return web_acknowledgement_send(ticket_id=ticket_id, email=email)
    except OSError as exc:  # SMTP and network errors: try again later
        raise self.retry(exc=exc, countdown=RETRY_SECONDS) from exc


@shared_task(bind=True, acks_late=True, max_retries=3)
def portal_link_send_task(self: Any, customer_id: int, email: str) -> bool:
    from tickets.portal.notifications import portal_link_send

    try:
        return portal_link_send(customer_id=customer_id, email=email)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=RETRY_SECONDS) from exc


@shared_task(bind=True, acks_late=True, max_retries=5)
def satisfaction_request_send_task(self: Any, ticket_id: int) -> bool:
    from tickets.portal.notifications import satisfaction_request_send

    try:
        return satisfaction_request_send(ticket_id=ticket_id)
    except OSError as exc:
        raise self.retry(exc=exc, countdown=RETRY_SECONDS) from exc


@shared_task(acks_late=True, ignore_result=True)
def satisfaction_requests_due_task() -> int:
    """The periodic tick (helpdesk.setup.PERIODIC_TASKS): send the requests now due."""
    from tickets.portal.notifications import satisfaction_requests_send_due

    return satisfaction_requests_send_due()
