"""What a channel's sender is and may raise: the outbox's side of the channel registry.

A sender takes one claimed Delivery, hands it to its provider and returns the provider's
id; the outbox (channels_app.delivery) records the outcome from what it raises."""

from collections.abc import Callable

from channels_app.models import Delivery
from tickets.models import Message

Sender = Callable[[Delivery], str]  # sends, returns the provider's id


class TemporaryDeliveryError(Exception):
    """Worth retrying: the provider or network is down, or it asked us to slow down."""


class PermanentDeliveryError(Exception):
    """Retrying will not help: bad recipient, rejected content, opted-out number."""


class UndeliveredError(Exception):
    """Handed over, but nobody was there to take it (a chat visitor who closed the page):
    recorded as undelivered with the reason, never retried; a later receipt still counts."""


def reply_of(delivery: Delivery) -> Message:
    """The reply a channel backend sends (notifications have none and never get here)."""
    if delivery.message is None:
        raise PermanentDeliveryError("This delivery has no message to send.")
    return delivery.message
