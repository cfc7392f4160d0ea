"""Notifications through the outbox: acknowledgements, sign-in links, rating requests and
agent notifications are Delivery rows like replies, claimed once, retried, visible in the
admin, and deduplicated by a unique key in the database, never by a mark in the cache.

A notification is written when its turn comes, from ids in the row's `context`, by the
renderer its purpose registered (in its app's AppConfig.ready()): a sign-in link is made
at sending, never stored, and a request no longer needed (the ticket reopened, the address
opted out) is skipped then.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from channels_app.models import Delivery
from tickets.models import Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    from_email: str = ""  # DEFAULT_FROM_EMAIL when empty
    headers: dict[str, str] = field(default_factory=dict)


class NotificationSkipped(Exception):
    """Nothing to send any more; the message says why (it is shown on the delivery)."""


Renderer = Callable[[dict[str, Any]], Mail]
_renderers: dict[str, Renderer] = {}


def notification_register(purpose: str, renderer: Renderer) -> None:
    _renderers[purpose] = renderer


def notification_render(delivery: Delivery) -> Mail:
    renderer = _renderers.get(delivery.purpose)
    if renderer is None:
        raise LookupError(f"No renderer is registered for {delivery.purpose} notifications.")
    return renderer(dict(delivery.context))


def notification_enqueue(
    *, purpose: str, recipient: str, context: dict[str, Any], dedup_key: str | None = None
) -> Delivery | None:
    """Write the notification's outbox row in the caller's transaction (sent after commit);
    None when `dedup_key` was written before: asked twice, sent once."""
    from channels_app.delivery import delivery_enqueue_on_commit

    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                purpose=purpose,
                channel=Channel.EMAIL,
                recipient=recipient[:320],
                context=context,
                dedup_key=dedup_key,
            )
    except IntegrityError:
        if dedup_key and Delivery.objects.filter(dedup_key=dedup_key).exists():
            return None
        raise
    delivery_enqueue_on_commit(delivery.pk)
    return delivery
