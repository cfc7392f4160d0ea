"""Writes on webhooks, for the admin and the API: create, change, rotate the secret,
enable again, send a test event, replay failed deliveries."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.errors import DomainError
from helpdesk.lib.ssrf import UnsafeUrl, url_vet
from tickets.integrations.models import (
    TEST_EVENT,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from tickets.integrations.webhooks.outbox import deliveries_enqueue, deliveries_write
from tickets.integrations.webhooks.payloads import Payload
from tickets.integrations.webhooks.signing import secret_new
from tickets.models import Channel, Team

# After a rotation the old secret still signs (a second signature) for this long, so a
# receiver can switch over without refusing a delivery.
ROTATION_GRACE = timedelta(hours=24)


class WebhookErrorCode(Enum):
    BAD_URL = "webhook_bad_url"
    BAD_EVENTS = "webhook_bad_events"
    BAD_FILTER = "webhook_bad_filter"
    NOT_ACTIVE = "webhook_not_active"


class WebhookError(DomainError):
    pass


@dataclass(frozen=True)
class WebhookWithSecret:
    webhook: Webhook
    secret: str  # show it once


def url_clean(url: str) -> str:
    url = url.strip()
    allow_private = settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE
    try:
        url_vet(
            url,
            schemes=("https", "http") if allow_private else ("https",),
            allow_private=allow_private,
        )
    except UnsafeUrl as exc:
        raise WebhookError(
            WebhookErrorCode.BAD_URL,
            f"{exc} A webhook needs a public https URL.",
        ) from exc
    if len(url) > 2000:
        raise WebhookError(WebhookErrorCode.BAD_URL, "The URL is over 2,000 characters.")
    return url


def events_clean(events: Iterable[str]) -> list[str]:
    wanted = sorted({e.strip() for e in events if e.strip()})
    unknown = [e for e in wanted if e not in WebhookEvent.values]
    if unknown:
        raise WebhookError(
            WebhookErrorCode.BAD_EVENTS,
            f"Unknown event type {', '.join(unknown)}. "
            f"Event types are: {', '.join(WebhookEvent.values)}.",
        )
    if not wanted:
        raise WebhookError(WebhookErrorCode.BAD_EVENTS, "Subscribe to at least one event type.")
    return wanted


def channels_clean(channels: Iterable[str]) -> list[str]:
    wanted = sorted({c.strip() for c in channels if c.strip()})
    unknown = [c for c in wanted if c not in Channel.values]
    if unknown:
        raise WebhookError(
            WebhookErrorCode.BAD_FILTER,
            f"Unknown channel {', '.join(unknown)}. Channels are: {', '.join(Channel.values)}.",
        )
    return wanted


def team_ids_clean(team_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(team_ids))
    missing = sorted(
        set(wanted) - set(Team.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    )
    if missing:
        raise WebhookError(
            WebhookErrorCode.BAD_FILTER, f"No team has the id {', '.join(map(str, missing))}."
        )
    return wanted


def webhook_create(
    *,
    name: str,
    url: str,
    events: Iterable[str],
    channels: Iterable[str] = (),
    team_ids: Iterable[int] = (),
    created_by: Any | None = None,
) -> WebhookWithSecret:
    """Subscribe `url` to `events`; `channels` and `team_ids` (empty: all) narrow it to
    the events of such tickets (events about no ticket, a customer merge, then skip it)."""
    secret = secret_new()
    webhook = Webhook.objects.create(
        name=name.strip()[:100] or "Webhook",
        url=url_clean(url),
        events=events_clean(events),
        channels=channels_clean(channels),
        team_ids=team_ids_clean(team_ids),
        secret=secret,
        created_by=created_by,
    )
    return WebhookWithSecret(webhook=webhook, secret=secret)


def webhook_update(
    *,
    webhook: Webhook,
    name: str | None = None,
    url: str | None = None,
    events: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    team_ids: Iterable[int] | None = None,
    is_active: bool | None = None,
) -> Webhook:
    if name is not None:
        webhook.name = name.strip()[:100] or webhook.name
    if url is not None:
        webhook.url = url_clean(url)
    if events is not None:
        webhook.events = events_clean(events)
    if channels is not None:
        webhook.channels = channels_clean(channels)
    if team_ids is not None:
        webhook.team_ids = team_ids_clean(team_ids)
    webhook.save(update_fields=["name", "url", "events", "channels", "team_ids", "updated_at"])
    if is_active is True and not webhook.is_active:
        webhook_enable(webhook=webhook)
    elif is_active is False and webhook.is_active:
        webhook.is_active = False
        webhook.save(update_fields=["is_active", "updated_at"])
    return webhook


def webhook_secret_rotate(*, webhook: Webhook) -> WebhookWithSecret:
    """A new secret, returned once; the old one keeps signing for ROTATION_GRACE."""
    secret = secret_new()
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_until = timezone.now() + ROTATION_GRACE
    webhook.secret = secret
    webhook.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return WebhookWithSecret(webhook=webhook, secret=secret)


def webhook_enable(*, webhook: Webhook) -> Webhook:
    """Call the webhook again, with a clean failure count; what waited while it was
    disabled goes out now, oldest first."""
    with transaction.atomic():
        webhook.is_active = True
        webhook.failure_count = 0
        webhook.failing_since = None
        webhook.disabled_at = None
        webhook.disabled_reason = ""
        webhook.save(
            update_fields=[
                "is_active",
                "failure_count",
                "failing_since",
                "disabled_at",
                "disabled_reason",
                "updated_at",
            ]
        )
        now = timezone.now()
        waiting = WebhookDelivery.objects.filter(
            webhook=webhook, status=WebhookDeliveryStatus.PENDING
        )
        waiting.filter(next_attempt_at__gt=now).update(next_attempt_at=now, updated_at=now)
        ids = list(waiting.order_by("id").values_list("pk", flat=True)[:500])
        transaction.on_commit(lambda: deliveries_enqueue(ids))  # the relay does the rest
    return webhook


def webhook_send_test(*, webhook: Webhook, actor: Any | None = None) -> WebhookDelivery:
    """A `webhook.test` event to this webhook only, through the outbox like any other."""
    if not webhook.is_active:
        raise WebhookError(
            WebhookErrorCode.NOT_ACTIVE, "The webhook is disabled: enable it, then test it."
        )
    event_id = f"evt_{uuid.uuid4().hex}"
    body = {
        "id": event_id,
        "type": TEST_EVENT,
        "timestamp": timezone.now().isoformat(),
        "data": {
            "webhook": {"id": webhook.pk, "name": webhook.name},
            "sent_by": actor.get_username() if actor is not None else None,
        },
    }
    with transaction.atomic():
        deliveries_write(
            payload=Payload(id=event_id, type=TEST_EVENT, body=body), webhook_ids=[webhook.pk]
        )
    return WebhookDelivery.objects.get(event_id=event_id, webhook=webhook)


def webhook_deliveries_replay(*, deliveries: Iterable[WebhookDelivery]) -> int:
    """Send failed deliveries again, each with a new retry window and the same
    `webhook-id` (a receiver that had it after all can tell). Returns how many."""
    ids = [d.pk for d in deliveries]
    now = timezone.now()
    give_up_at = now + timedelta(seconds=settings.HELPDESK_WEBHOOK_GIVE_UP_AFTER)
    with transaction.atomic():
        replayed = list(
            WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDeliveryStatus.FAILED)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=replayed).update(
            status=WebhookDeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            give_up_at=give_up_at,
            updated_at=now,
        )
        transaction.on_commit(lambda: deliveries_enqueue(replayed))
    return len(replayed)
