"""Outbound delivery, shared by every channel.

The Delivery row is the outbox. A reply writes it in the reply's transaction and the send
is enqueued on commit. A worker claims a delivery with a conditional update, so two
workers (or a task that runs twice) never send twice; the relay re-enqueues what is still
queued after a minute, so a lost enqueue delays a send but never drops it.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels_app.models import RESENT_NOTE, Delivery, DeliveryStatus
from channels_app.notifications import NotificationSkipped
from channels_app.registry import channel_spec
from channels_app.senders import PermanentDeliveryError, TemporaryDeliveryError, UndeliveredError
from tickets.domain_events import MessageAdded
from tickets.events import publish_delivery_changed
from tickets.models import Direction

logger = logging.getLogger(__name__)

# The relay's two thresholds are settings (HELPDESK_DELIVERY_RELAY_AFTER, 60 s, and
# HELPDESK_DELIVERY_STALE_AFTER, 300 s). A delivery stuck in `sending` that long was cut
# off mid-send (worker killed): far longer than any send takes (SMTP and Twilio time out
# in well under a minute). It may or may not have gone out; it is sent again, at least
# once rather than never: an email keeps its Message-ID, so the receiver's client threads
# and deduplicates a second copy.

BACKOFF_SECONDS = (30, 120, 600, 1800)  # each far below the broker's visibility timeout


@dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: int | None = None


def delivery_create(*, message_id: int, channel: str, recipient: str) -> Delivery:
    """Write the outbox row (inside the caller's transaction) and enqueue it on commit."""
    spec = channel_spec(channel)
    if spec is not None and spec.recipient_check is not None:
        spec.recipient_check(recipient)  # refused before anything is written
    delivery = Delivery.objects.create(message_id=message_id, channel=channel, recipient=recipient)
    delivery_enqueue_on_commit(delivery.pk)
    if spec is not None and spec.reply_queued is not None:
        spec.reply_queued()
    return delivery


def deliveries_for_reply(event: MessageAdded) -> None:
    """MessageAdded subscriber (in the transaction): one delivery per recipient of a reply.

    Raising here (an opted-out number) rolls the reply back, so the agent sees why."""
    if event.is_internal or event.direction != Direction.OUTBOUND:
        return
    for recipient in event.recipients:
        delivery_create(message_id=event.message_id, channel=event.channel, recipient=recipient)


def delivery_enqueue_on_commit(delivery_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(delivery_id))


def _enqueue(delivery_id: int, countdown: int | None = None) -> None:
    from channels_app.tasks import delivery_send_task

    try:
        if countdown is None:
            delivery_send_task.apply_async(args=(delivery_id,))
        else:
            delivery_send_task.apply_async(args=(delivery_id,), countdown=countdown)
    except Exception:  # broker down: the relay picks the row up once it is back
        logger.warning("could not enqueue delivery %s; the relay will", delivery_id, exc_info=True)


def _backoff(attempts: int) -> int:
    return BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]


def delivery_send(*, delivery_id: int) -> SendOutcome:
    """Claim and send one delivery. Safe to call any number of times."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=now)
    if claimed != 1:
        # Already sent, being sent, failed for good, or not due: another worker got there
        # first or a retry is scheduled.
        current = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return SendOutcome(status=current or "missing")
    delivery = Delivery.objects.select_related(
        "message__ticket__customer", "message__author_user"
    ).get(pk=delivery_id)
    spec = channel_spec(delivery.channel)
    backend = None
    if spec is not None:
        backend = spec.sender if delivery.message_id else spec.notification_sender
    try:
        if backend is None:
            raise PermanentDeliveryError(f"No sender is configured for {delivery.channel}.")
        provider_id = backend(delivery)
    except NotificationSkipped as exc:
        return _record_skipped(delivery, str(exc))
    except TemporaryDeliveryError as exc:
        return _record_temporary_failure(delivery, str(exc))
    except PermanentDeliveryError as exc:
        return _record_failure(delivery, str(exc))
    except UndeliveredError as exc:
        return _record_sent(delivery, DeliveryStatus.UNDELIVERED, "", str(exc))
    except Exception as exc:
        logger.exception("delivery %s failed unexpectedly", delivery_id)
        return _record_temporary_failure(delivery, f"{exc.__class__.__name__}: {exc}")
    return _record_sent(delivery, DeliveryStatus.SENT, provider_id, "")


def _record_sent(delivery: Delivery, status: str, provider_id: str, note: str) -> SendOutcome:
    # Only from `sending`: a chat widget may confirm receipt before this runs, and its
    # `delivered` must not be turned back into `sent`.
    if not note and delivery.last_error == RESENT_NOTE:
        note = RESENT_NOTE  # the agent keeps seeing that this one went out again after a crash
    now = timezone.now()
    updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        provider_id=provider_id[:500],
        sent_at=now,
        updated_at=now,
        last_error=note[:5000],
    )
    if updated:
        _publish(delivery, status, note)
    return SendOutcome(status=status)


def _record_skipped(delivery: Delivery, reason: str) -> SendOutcome:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SKIPPED, last_error=reason[:5000], updated_at=timezone.now()
    )
    return SendOutcome(status=DeliveryStatus.SKIPPED)


def _publish(delivery: Delivery, status: str, detail: str) -> None:
    message = delivery.message
    if message is None:
        return  # a notification: no reply badge on any ticket page
    publish_delivery_changed(
        ticket_id=message.ticket_id,
        message_id=message.pk,
        delivery_id=delivery.pk,
        status=status,
        label=str(DeliveryStatus(status).label),
        detail=detail,
    )


def _record_temporary_failure(delivery: Delivery, error: str) -> SendOutcome:
    if delivery.attempts >= settings.HELPDESK_DELIVERY_MAX_ATTEMPTS:
        return _record_failure(delivery, f"Gave up after {delivery.attempts} attempts: {error}")
    wait = _backoff(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.QUEUED,
        last_error=error[:5000],
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
        updated_at=timezone.now(),
    )
    return SendOutcome(status=DeliveryStatus.QUEUED, retry_in=wait)


def _record_failure(delivery: Delivery, error: str) -> SendOutcome:
    updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED, last_error=error[:5000], updated_at=timezone.now()
    )
    if updated:
        _publish(delivery, DeliveryStatus.FAILED, error)
    logger.warning("delivery %s failed: %s", delivery.pk, error)
    return SendOutcome(status=DeliveryStatus.FAILED)


def delivery_retry(*, delivery: Delivery) -> Delivery:
    """An agent asks to send a failed delivery again; anything not failed is left alone.

    The attempt count starts over, so the retry gets the full round of temporary-error
    retries instead of giving up on its first hiccup; last_error stays until a send works.
    """
    with transaction.atomic():
        now = timezone.now()
        updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=now, updated_at=now
        )
        if updated:
            transaction.on_commit(lambda: _enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def delivery_relay() -> int:
    """Re-enqueue deliveries still waiting after HELPDESK_DELIVERY_RELAY_AFTER, and send
    again the ones cut off mid-send (a worker killed) unless they used up their attempts.

    Reads only waiting rows (partial index). Returns how many were re-enqueued.
    """
    current = timezone.now()
    stale_after = timedelta(seconds=settings.HELPDESK_DELIVERY_STALE_AFTER)
    relay_after = timedelta(seconds=settings.HELPDESK_DELIVERY_RELAY_AFTER)
    cut_off = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, updated_at__lte=current - stale_after
    )
    # A message that kills the worker every time must not be resent forever.
    cut_off.filter(attempts__gte=settings.HELPDESK_DELIVERY_MAX_ATTEMPTS).update(
        status=DeliveryStatus.FAILED,
        last_error=(
            "The worker stopped while sending, on every attempt, so this may or may not "
            "have gone out. Check with the customer, then retry if needed."
        ),
        updated_at=current,
    )
    resent_ids = list(cut_off.values_list("pk", flat=True)[:500])
    Delivery.objects.filter(pk__in=resent_ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.QUEUED, next_attempt_at=current, last_error=RESENT_NOTE,
        updated_at=current,
    )  # fmt: skip
    for delivery_id in resent_ids:
        _enqueue(delivery_id)
    stale_ids = list(
        Delivery.objects.filter(
            status=DeliveryStatus.QUEUED, next_attempt_at__lte=current - relay_after
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in stale_ids:
        _enqueue(delivery_id)
    return len(stale_ids) + len(resent_ids)
