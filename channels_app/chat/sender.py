"""Live chat out: a reply pushed to the visitor's open widgets over the channel layer."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from channels_app.chat.presence import visitor_online
from channels_app.models import Delivery
from channels_app.senders import (
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UndeliveredError,
    reply_of,
)
from tickets.events import publish_chats_waiting_changed
from tickets.models import ContactIdentity, IdentityKind, Message


def chat_visitor_group(visitor_id: str) -> str:
    return f"chat.visitor.{visitor_id}"


def chat_message_payload(message: Message) -> dict[str, str]:
    """What a visitor's widget shows for one message (no internal data)."""
    author = ""
    if message.author_user is not None:
        author = getattr(message.author_user, "first_name", "") or "Support"
    return {
        "id": f"m{message.pk}",
        "direction": message.direction,
        "author": author,
        "text": message.body_text,
        "at": message.created_at.isoformat(),
    }


def _visitor_away_text(delivery: Delivery) -> str:
    email = (
        ContactIdentity.objects.filter(
            customer_id=reply_of(delivery).ticket.customer_id, kind=IdentityKind.EMAIL
        )
        .order_by("pk")
        .values_list("value", flat=True)
        .first()
    )
    reach = (
        f"To reach them now, reply by email to {email}."
        if email
        else "They left no email address; the reply waits for their next visit."
    )
    return (
        "The visitor had closed the chat, so no open widget got this reply. They will see "
        f"it in the chat when they come back. {reach}"
    )


def chat_reply_queued() -> None:
    """Answered: one chat fewer waiting (the workspace header's counter)."""
    publish_chats_waiting_changed(arrived=False)


def send_chat(delivery: Delivery) -> str:
    """Push the reply to every open widget of the visitor; each widget confirms receipt
    (chat.chat_replies_received), which marks the delivery delivered. With no widget
    open the delivery is undelivered, with the reason: the visitor reads the reply in the
    history the widget loads when they come back, and the agent can email them."""
    layer = get_channel_layer()
    if layer is None:
        raise PermanentDeliveryError("Live chat needs a channel layer; none is configured.")
    try:
        async_to_sync(layer.group_send)(
            chat_visitor_group(delivery.recipient),
            {"type": "chat.message", "message": chat_message_payload(reply_of(delivery))},
        )
    except Exception as exc:  # the layer (Redis) is down: worth retrying
        raise TemporaryDeliveryError(f"Could not reach the chat server: {exc}") from exc
    # Sent to the group either way: a widget that opened a moment ago (and is not yet
    # counted) still gets it and confirms receipt.
    if not visitor_online(delivery.recipient):
        raise UndeliveredError(_visitor_away_text(delivery))
    return f"chat:{delivery.message_id}"
