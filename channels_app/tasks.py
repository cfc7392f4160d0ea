from typing import Any

from celery import shared_task

from helpdesk.lib.locks import single_run


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


@shared_task(bind=True, acks_late=True, max_retries=5)
def sms_media_fetch_task(self: Any, message_id: int, number_id: int) -> int:
    import requests

    from channels_app.sms.services import sms_media_fetch

    try:
        return sms_media_fetch(message_id=message_id, number_id=number_id)
    except requests.RequestException as exc:
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from exc


@shared_task(acks_late=True)
def chat_transcript_send_task(visitor_id: str, email: str) -> int:
    from channels_app.chat.services import chat_transcript_send

    return chat_transcript_send(visitor_id=visitor_id, email=email)


@shared_task(acks_late=True)
def mailbox_poll_task(mailbox_id: int) -> int:
    from channels_app.email.imap import mailbox_poll

    # A slow server must not get two polls of one mailbox at once (double fetches are
    # harmless thanks to dedup, but wasteful).
    with single_run(f"imap-poll-{mailbox_id}", ttl=600) as acquired:
        if not acquired:
            return 0
        return mailbox_poll(mailbox_id=mailbox_id).fetched


@shared_task(acks_late=True)
def mailbox_poll_all_task() -> int:
    """Beat, every minute: one poll task per active IMAP mailbox."""
    from channels_app.email.imap import mailboxes_to_poll

    mailbox_ids = mailboxes_to_poll()
    for mailbox_id in mailbox_ids:
        mailbox_poll_task.delay(mailbox_id)
    return len(mailbox_ids)


@shared_task(acks_late=True)
def raw_inbound_retry_stale_task() -> int:
    """Beat, every minute: process payloads of any channel a crash or an outage left
    `received`. One run at a time (a second beat's tick does nothing)."""
    from channels_app.ingest import raw_inbound_retry_stale

    with single_run("raw-inbound-retry-stale", ttl=300) as acquired:
        if not acquired:
            return 0
        return raw_inbound_retry_stale()


@shared_task(acks_late=True)
def agent_notify_task(ticket_id: int, kind: str, user_id: int) -> None:
    """No caller in this code: a broker can still hold messages of this name from an
    older release; each writes the notification's outbox row."""
    from django.db import transaction

    from channels_app.agent_notifications import agent_notify_on_commit

    with transaction.atomic():
        agent_notify_on_commit(ticket_id=ticket_id, kind=kind, user_id=user_id)


@shared_task(acks_late=True)
def retention_purge_task() -> dict[str, int]:
    from channels_app.retention import retention_purge

    # Safe to run twice (each batch deletes what is still due); one run at a time saves
    # the second beat's work.
    with single_run("retention-purge", ttl=3600) as acquired:
        if not acquired:
            return {}
        return retention_purge().as_dict()
