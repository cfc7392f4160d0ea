"""The webhook outbox, built like the delivery outbox (channels_app/delivery.py).

A domain event's subscriber writes one WebhookDelivery per subscribed webhook in the
event's transaction (so a change and its deliveries commit together, or neither does),
and kicks the sends on commit. A worker claims a delivery with a conditional update, so
two workers, or a task run twice, never send one attempt twice. Temporary failures (5xx,
408, 429, timeouts, connection errors) are retried with exponential backoff and jitter
until `give_up_at`; the relay re-enqueues what is still pending after its time (a lost
enqueue delays a delivery, never drops it) and sends again what a killed worker left
`sending`: at least once, with the same `webhook-id` each time.
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpdesk.lib.config_cache import ConfigCache
from helpdesk.lib.http import PostAnswer, post_pinned
from helpdesk.lib.ssrf import UnsafeUrl, url_resolve
from tickets.domain_events import DomainEvent
from tickets.integrations.models import (
    Webhook,
    WebhookDelivery,
    WebhookDeliveryStatus,
)
from tickets.integrations.webhooks.payloads import Payload, event_type_of, payload_for
from tickets.integrations.webhooks.signing import signed_headers
from tickets.models import Ticket

logger = logging.getLogger(__name__)

Status = WebhookDeliveryStatus
# Exponential backoff: 30 s, 1, 2, 4 ... minutes, each wait at most 4 h, with jitter so
# the retries of a burst (a receiver back after an outage) spread out. Over the default
# 24 h that is about a dozen attempts.
BACKOFF_BASE = 30
BACKOFF_CAP = 4 * 3600
# A worker retries a short wait itself (a task countdown, far below the broker's
# visibility timeout); a longer one is left to the relay, which reads due rows.
COUNTDOWN_MAX = 600
# What is kept of an answer: enough to see what the receiver said.
ANSWER_READ_BYTES = 64 * 1024
ANSWER_KEEP_CHARS = 1000
RESENT_NOTE = "Sent again after a worker restart: the previous attempt was cut off mid-send."
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: int | None = None


@dataclass(frozen=True)
class ActiveWebhook:
    id: int
    events: frozenset[str]
    channels: frozenset[str] = frozenset()
    team_ids: frozenset[int] = frozenset()

    @property
    def filtered(self) -> bool:
        return bool(self.channels or self.team_ids)

    def wants(self, facts: "TicketFacts | None") -> bool:
        if not self.filtered:
            return True
        if facts is None:  # not about one ticket (a customer merge)
            return False
        return (not self.channels or facts.channel in self.channels) and (
            not self.team_ids or facts.team_id in self.team_ids
        )


@dataclass(frozen=True)
class TicketFacts:
    channel: str
    team_id: int | None


def _active_load() -> tuple[ActiveWebhook, ...]:
    rows = Webhook.objects.filter(is_active=True).values_list(
        "pk", "events", "channels", "team_ids"
    )
    return tuple(
        ActiveWebhook(
            id=pk,
            events=frozenset(events or ()),
            channels=frozenset(channels or ()),
            team_ids=frozenset(team_ids or ()),
        )
        for pk, events, channels, team_ids in rows
    )


def ticket_facts(event: DomainEvent) -> TicketFacts | None:
    """The channel and team a webhook's filters look at: the event's own where it carries
    them (a message's channel; the team after a change, which the row does not hold yet
    while the change is being made), else its ticket's."""
    ticket_id = getattr(event, "ticket_id", None) or getattr(event, "target_ticket_id", None)
    if ticket_id is None:
        return None
    row = Ticket.objects.filter(pk=ticket_id).values_list("channel", "team_id").first()
    if row is None:
        return None
    channel = getattr(event, "channel", None) or row[0]
    team_id = event.team_id if hasattr(event, "team_id") else row[1]
    return TicketFacts(channel=channel, team_id=team_id)


# Every ingested message asks which webhooks want it: one cache GET, not a query
# (IntegrationsConfig.ready() watches Webhook).
active_webhooks = ConfigCache("webhooks", _active_load)


def deliveries_for_event(event: DomainEvent) -> None:
    """Domain event subscriber (in the transaction): one pending delivery per active
    webhook subscribed to the event's type, committed with the change."""
    kind = event_type_of(event)
    if kind is None:
        return
    hooks = [hook for hook in active_webhooks.get() if kind.value in hook.events]
    if any(hook.filtered for hook in hooks):
        facts = ticket_facts(event)  # one query, only when some webhook filters
        hooks = [hook for hook in hooks if hook.wants(facts)]
    hook_ids = [hook.id for hook in hooks]
    if not hook_ids:
        return
    try:
        payload = payload_for(event)
    except ObjectDoesNotExist:
        # What the event names is gone already: nothing to tell, and a webhook must
        # never make the change itself fail (a customer's mail not stored).
        logger.exception("no webhook payload for %s", type(event).__name__)
        return
    deliveries_write(payload=payload, webhook_ids=hook_ids)


def deliveries_write(*, payload: Payload, webhook_ids: list[int]) -> None:
    now = timezone.now()
    give_up_at = now + timedelta(seconds=settings.HELPDESK_WEBHOOK_GIVE_UP_AFTER)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook_id=hook_id,
                event_id=payload.id,
                event_type=payload.type,
                payload=payload.body,
                next_attempt_at=now,
                give_up_at=give_up_at,
                created_at=now,
                updated_at=now,
            )
            for hook_id in webhook_ids
        ],
        ignore_conflicts=True,  # the same event handed over twice: its rows exist
    )
    event_id = payload.id
    transaction.on_commit(lambda: _enqueue_event(event_id))


def _enqueue_event(event_id: str) -> None:
    pending = WebhookDelivery.objects.filter(event_id=event_id, status=Status.PENDING)
    for delivery_id in pending.values_list("pk", flat=True):
        _enqueue(delivery_id)


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        _enqueue(delivery_id)


def _enqueue(delivery_id: int) -> None:
    from tickets.integrations.tasks import webhook_send_task

    try:
        webhook_send_task.apply_async(args=(delivery_id,))
    except Exception:  # broker down: the relay picks the row up once it is back
        logger.warning(
            "could not enqueue webhook delivery %s; the relay will", delivery_id, exc_info=True
        )


def backoff_seconds(attempts: int) -> int:
    """The wait after the `attempts`-th failed attempt: doubling from BACKOFF_BASE up to
    BACKOFF_CAP, then between half of it and all of it at random ("equal jitter")."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return int(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 (not a secret)


def secrets_in_use(hook: Webhook, now: datetime) -> list[str]:
    keys = [hook.secret]
    if hook.previous_secret and hook.previous_secret_until and hook.previous_secret_until > now:
        keys.append(hook.previous_secret)
    return keys


def body_bytes(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def webhook_delivery_send(*, delivery_id: int) -> SendOutcome:
    """Claim and attempt one delivery. Safe to call any number of times: only a pending,
    due delivery of an active webhook is claimed, by one caller."""
    now = timezone.now()
    # The webhook's state as a subquery, not a join: an UPDATE with a join becomes
    # "id IN (select ...)", and a second worker waiting on the row lock would then not
    # see the first one's change of status, and claim the row too.
    active = Webhook.objects.filter(is_active=True).values("pk")
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now, webhook_id__in=active
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, updated_at=now)
    if claimed != 1:
        # Delivered, being sent, failed for good, not due, or its webhook is disabled:
        # another worker got there first or a retry is scheduled.
        current = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
        return SendOutcome(status=current.first() or "missing")
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = delivery.webhook
    body = body_bytes(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-webhooks/1",
        **signed_headers(
            secrets_in_use=secrets_in_use(hook, now),
            msg_id=delivery.event_id,
            timestamp=int(now.timestamp()),
            body=body,
        ),
    }
    allow_private = settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE
    started = time.monotonic()
    try:
        # Resolved and checked now, at every attempt, and connected to the checked
        # address: a name that pointed outside when the webhook was saved may not
        # point inside today.
        target = url_resolve(
            hook.url,
            schemes=("https", "http") if allow_private else ("https",),
            allow_private=allow_private,
        )
        answer = post_pinned(
            target,
            body=body,
            headers=headers,
            connect_timeout=settings.HELPDESK_WEBHOOK_CONNECT_TIMEOUT,
            read_timeout=settings.HELPDESK_WEBHOOK_READ_TIMEOUT,
            max_answer_bytes=ANSWER_READ_BYTES,
        )
    except UnsafeUrl as exc:
        return _record_final(delivery, f"Refused to call this URL: {exc}", started=started)
    except Exception as exc:  # timeouts, refused connections, TLS, malformed answers
        return _record_retry(delivery, f"{exc.__class__.__name__}: {exc}", started=started)
    return _record_answer(delivery, answer, started=started)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record_answer(delivery: WebhookDelivery, answer: PostAnswer, *, started: float) -> SendOutcome:
    status = answer.status
    if 200 <= status < 300:
        return _record_delivered(delivery, answer, started=started)
    snippet = answer.body.decode("utf-8", "replace")[:ANSWER_KEEP_CHARS]
    if status >= 500 or status in RETRIED_STATUSES:
        return _record_retry(
            delivery,
            f"The receiver answered {status}.",
            started=started,
            answer=answer,
            snippet=snippet,
        )
    if 300 <= status < 400:
        error = (
            f"The receiver answered {status} (a redirect to {answer.location[:300] or '?'}); "
            "redirects are not followed: point the webhook at the final URL."
        )
    elif status == 410:
        error = "The receiver answered 410 Gone: the webhook was disabled."
    else:
        error = f"The receiver answered {status}; not retried (only 408, 429 and 5xx are)."
    outcome = _record_final(delivery, error, started=started, answer=answer, snippet=snippet)
    if status == 410:
        webhook_disable(webhook_id=delivery.webhook_id, reason=error)
    return outcome


def _record_delivered(
    delivery: WebhookDelivery, answer: PostAnswer, *, started: float
) -> SendOutcome:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.DELIVERED,
        delivered_at=now,
        updated_at=now,
        last_status_code=answer.status,
        last_error="" if delivery.last_error != RESENT_NOTE else RESENT_NOTE,
        last_response=answer.body.decode("utf-8", "replace")[:ANSWER_KEEP_CHARS],
        last_duration_ms=_elapsed_ms(started),
    )
    Webhook.objects.filter(pk=delivery.webhook_id).update(
        failure_count=0, failing_since=None, last_success_at=now
    )
    return SendOutcome(status=Status.DELIVERED)


def _record_retry(
    delivery: WebhookDelivery,
    error: str,
    *,
    started: float,
    answer: PostAnswer | None = None,
    snippet: str = "",
) -> SendOutcome:
    now = timezone.now()
    wait = backoff_seconds(delivery.attempts)
    next_at = now + timedelta(seconds=wait)
    if next_at > delivery.give_up_at:
        return _record_final(
            delivery,
            f"Gave up after {delivery.attempts} attempts: {error}",
            started=started,
            answer=answer,
            snippet=snippet,
        )
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.PENDING,
        next_attempt_at=next_at,
        updated_at=now,
        last_status_code=answer.status if answer else None,
        last_error=error[:5000],
        last_response=snippet,
        last_duration_ms=_elapsed_ms(started),
    )
    _count_failure(delivery.webhook_id, now=now, error=error)
    return SendOutcome(status=Status.PENDING, retry_in=wait)


def _record_final(
    delivery: WebhookDelivery,
    error: str,
    *,
    started: float,
    answer: PostAnswer | None = None,
    snippet: str = "",
) -> SendOutcome:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.FAILED,
        updated_at=now,
        last_status_code=answer.status if answer else None,
        last_error=error[:5000],
        last_response=snippet,
        last_duration_ms=_elapsed_ms(started),
    )
    logger.warning("webhook delivery %s failed: %s", delivery.pk, error)
    _count_failure(delivery.webhook_id, now=now, error=error)
    return SendOutcome(status=Status.FAILED)


def _count_failure(webhook_id: int, *, now: datetime, error: str) -> None:
    Webhook.objects.filter(pk=webhook_id).update(
        failure_count=F("failure_count") + 1, failing_since=Coalesce("failing_since", now)
    )
    row = Webhook.objects.filter(pk=webhook_id, is_active=True).values_list(
        "failure_count", "failing_since"
    )
    found = row.first()
    if found is None:
        return
    count, since = found
    limit = settings.HELPDESK_WEBHOOK_DISABLE_AFTER_FAILURES
    min_failing = timedelta(seconds=settings.HELPDESK_WEBHOOK_DISABLE_MIN_FAILING)
    if count >= limit and since is not None and now - since >= min_failing:
        webhook_disable(
            webhook_id=webhook_id,
            reason=(
                f"Disabled after {count} failed attempts in a row since "
                f"{since:%Y-%m-%d %H:%M} UTC. Last error: {error[:500]} Fix the receiver, "
                "then enable the webhook again: its pending deliveries go out then."
            ),
        )


def webhook_disable(*, webhook_id: int, reason: str) -> bool:
    """The desk stops calling a webhook (its pending deliveries wait). True if this call
    disabled it."""
    now = timezone.now()
    disabled = Webhook.objects.filter(pk=webhook_id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:5000], updated_at=now
    )
    if disabled:
        active_webhooks.invalidate()  # update() sends no signal
        logger.warning("webhook %s disabled: %s", webhook_id, reason)
    return bool(disabled)


def webhook_relay() -> int:
    """Send again deliveries cut off mid-send (a worker killed), and re-enqueue pending
    ones still waiting HELPDESK_WEBHOOK_RELAY_AFTER after they were due. Reads only
    waiting rows (partial index). Returns how many were enqueued."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.HELPDESK_WEBHOOK_STALE_AFTER)
    cut_off = WebhookDelivery.objects.filter(status=Status.SENDING, updated_at__lte=stale_before)
    # One that kills the worker on every attempt is not sent forever.
    cut_off.filter(give_up_at__lte=now).update(
        status=Status.FAILED,
        updated_at=now,
        last_error=(
            "The worker stopped while sending, on every attempt until the retry window "
            "ended; the receiver may or may not have it."
        ),
    )
    resent = list(cut_off.values_list("pk", flat=True)[:500])
    WebhookDelivery.objects.filter(
        pk__in=resent, status=Status.SENDING, updated_at__lte=stale_before
    ).update(status=Status.PENDING, next_attempt_at=now, last_error=RESENT_NOTE, updated_at=now)
    for delivery_id in resent:
        _enqueue(delivery_id)
    overdue = now - timedelta(seconds=settings.HELPDESK_WEBHOOK_RELAY_AFTER)
    due = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=overdue, webhook__is_active=True
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        _enqueue(delivery_id)
    return len(resent) + len(due)


def webhook_log_purge(*, batch_size: int = 1000) -> int:
    """Delete delivered and failed deliveries older than HELPDESK_WEBHOOK_LOG_DAYS, a
    batch per statement (partial index webhook_delivery_done); waiting ones are kept
    whatever their age. Returns how many were deleted."""
    before = timezone.now() - timedelta(days=settings.HELPDESK_WEBHOOK_LOG_DAYS)
    done = [Status.DELIVERED, Status.FAILED]
    deleted = 0
    while True:
        batch = list(
            WebhookDelivery.objects.filter(status__in=done, created_at__lt=before)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        deleted += WebhookDelivery.objects.filter(pk__in=batch).delete()[0]
