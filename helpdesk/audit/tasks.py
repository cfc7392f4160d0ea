from celery import shared_task

from helpdesk.audit.services import audit_purge


@shared_task
def audit_purge_task() -> int:
    return audit_purge()
