"""Live chat: visitor tokens, origins, rate limits, messages in, typing, transcripts.

The websocket consumer (channels_app.chat.consumers.ChatConsumer) stays thin and calls these.
Agent replies reach visitors through channels_app.chat.sender (the outbox finds it in
the channel registry).
"""

import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.chat import adapter as chat_adapter
from channels_app.chat.presence import agent_online
from channels_app.chat.sender import chat_message_payload, chat_visitor_group
from channels_app.ingest import raw_inbound_process, raw_inbound_store
from channels_app.models import ChatChannel, Delivery, DeliveryStatus, RawInbound
from helpdesk.errors import DomainError
from tickets.domain_events import Actor, ActorKind, CustomerMerged, publish
from tickets.events import (
    publish_chats_waiting_changed,
    publish_delivery_changed,
    ticket_group,
)
from tickets.models import (
    ACTIVE_STATUSES,
    Channel,
    ContactIdentity,
    Customer,
    Direction,
    EventKind,
    IdentityKind,
    Message,
    Ticket,
)
from tickets.services import event_record, identity_resolve

logger = logging.getLogger(__name__)

TOKEN_SALT = "helpdesk.chat.visitor"  # noqa: S105 (a signing namespace, not a secret)
HISTORY_LIMIT = 50
VISITOR_NAME = "Chat visitor"
REPLY_ID = re.compile(r"m(\d{1,18})")  # a message id as chat_message_payload writes it


class ChatErrorCode(Enum):
    BAD_TOKEN = "bad_token"  # noqa: S105
    RATE_LIMITED = "rate_limited"
    IDENTIFY_FIRST = "identify_first"
    INVALID = "invalid"
    NO_EMAIL = "no_email"
    NO_CONVERSATION = "no_conversation"


class ChatError(DomainError):
    code: ChatErrorCode


@dataclass(frozen=True)
class ChatReceipt:
    message_id: int
    ticket_number: int | None
    duplicate: bool


@dataclass(frozen=True)
class ChatWelcome:
    token: str
    visitor_id: str
    greeting: str
    colour: str
    agents_online: bool
    require_email: bool
    email: str
    history: list[dict[str, str]]


# --- channel, origin, token -------------------------------------------------------------


def chat_channel_get(*, key: str) -> ChatChannel | None:
    if not key or len(key) > 32:
        return None
    return ChatChannel.objects.filter(key=key, active=True).first()


def chat_origin_allowed(*, channel: ChatChannel, origin: str) -> bool:
    """Does the page at `origin` (the Origin header) belong to the channel's sites?"""
    try:
        parsed = urlsplit(origin.strip())
        host = (parsed.hostname or "").lower()
        port = parsed.port
    except ValueError:
        return False
    if parsed.scheme not in ("http", "https") or not host:
        return False
    netloc = f"{host}:{port}" if port else host
    own = urlsplit(settings.PUBLIC_BASE_URL)
    if parsed.scheme == own.scheme and netloc == (own.netloc or "").lower():
        return True  # our own pages (portal, demo)
    for entry in channel.domains:
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif ":" in entry:
            if netloc == entry:
                return True
        elif host == entry:
            return True
    return False


def visitor_token_issue(*, channel: ChatChannel) -> tuple[str, str]:
    """A new visitor: (signed token for the browser to keep, visitor id)."""
    visitor_id = uuid.uuid4().hex
    token = signing.dumps({"v": visitor_id, "c": channel.key}, salt=TOKEN_SALT)
    return token, visitor_id


def visitor_token_read(*, token: str, channel: ChatChannel) -> str:
    """The visitor id in a token this server signed for this channel."""
    try:
        data = signing.loads(
            token,
            salt=TOKEN_SALT,
            max_age=settings.HELPDESK_CHAT_TOKEN_MAX_AGE_DAYS * 86400,
        )
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise ChatError(
            ChatErrorCode.BAD_TOKEN,
            "This chat session could not be verified. A new one will start.",
        ) from exc
    if not isinstance(data, dict) or data.get("c") != channel.key or not data.get("v"):
        raise ChatError(
            ChatErrorCode.BAD_TOKEN,
            "This chat session belongs to another site. A new one will start.",
        )
    return str(data["v"])


def chat_rate_allow(*, visitor_id: str) -> bool:
    """Take one from the visitor's per-minute allowance; False when it is used up."""
    window = int(timezone.now().timestamp() // 60)
    key = f"chat:rate:{visitor_id}:{window}"
    cache.add(key, 0, 120)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, 120)
        count = 1
    return count <= settings.HELPDESK_CHAT_RATE_LIMIT


# --- reads ------------------------------------------------------------------------------


def _visitor_messages(visitor_id: str) -> Any:
    return Message.objects.filter(channel=Channel.CHAT, is_internal=False).filter(
        Q(
            direction=Direction.INBOUND,
            author_identity__kind=IdentityKind.CHAT,
            author_identity__value=visitor_id,
        )
        | Q(direction=Direction.OUTBOUND, deliveries__recipient=visitor_id)
    )


def chat_history(*, visitor_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, str]]:
    """The visitor's own chat: what they wrote and what was sent to them, nothing else of
    the customer's history (an email typed into a widget is not proof of who they are)."""
    rows = list(
        _visitor_messages(visitor_id)
        .select_related("author_user")
        .distinct()
        .order_by("-created_at", "-id")[:limit]
    )
    return [chat_message_payload(message) for message in reversed(rows)]


def chat_visitor_ticket(*, visitor_id: str) -> Ticket | None:
    """The active ticket the visitor is chatting on, if any."""
    message = (
        Message.objects.filter(
            channel=Channel.CHAT,
            direction=Direction.INBOUND,
            author_identity__kind=IdentityKind.CHAT,
            author_identity__value=visitor_id,
            ticket__status__in=list(ACTIVE_STATUSES),
        )
        .select_related("ticket")
        .order_by("-created_at", "-id")
        .first()
    )
    return message.ticket if message else None


def chat_visitor_email(*, visitor_id: str) -> str:
    """The email of the customer behind the visitor, or ""."""
    return (
        ContactIdentity.objects.filter(
            kind=IdentityKind.EMAIL,
            customer__identities__kind=IdentityKind.CHAT,
            customer__identities__value=visitor_id,
        )
        .order_by("pk")
        .values_list("value", flat=True)
        .first()
        or ""
    )


def chat_welcome(*, channel: ChatChannel, token: str | None) -> ChatWelcome:
    """Start or resume a visitor's session. Raises ChatError(BAD_TOKEN) for a token this
    server did not sign for this channel."""
    if token:
        visitor_id = visitor_token_read(token=token, channel=channel)
    else:
        token, visitor_id = visitor_token_issue(channel=channel)
    return ChatWelcome(
        token=token,
        visitor_id=visitor_id,
        greeting=channel.greeting,
        colour=channel.colour,
        agents_online=agent_online(channel.team_id),
        require_email=channel.require_email,
        email=chat_visitor_email(visitor_id=visitor_id),
        history=chat_history(visitor_id=visitor_id),
    )


# --- writes -----------------------------------------------------------------------------


@transaction.atomic
def chat_visitor_identify(*, visitor_id: str, name: str, email: str) -> ContactIdentity:
    """Join the visitor to the customer with that email (created when unknown), so the chat
    lands in that customer's one history. Raises TicketError for an invalid email.

    A visitor who chatted anonymously first brings their chat tickets along: their
    stand-in customer record is merged into the email's customer.
    """
    name = name.strip()[:200]
    email_identity = identity_resolve(kind=IdentityKind.EMAIL, value=email, display_name=name)
    target = email_identity.customer
    chat = (
        ContactIdentity.objects.select_for_update()
        .filter(kind=IdentityKind.CHAT, value=visitor_id)
        .first()
    )
    if chat is None:
        return ContactIdentity.objects.create(
            customer=target, kind=IdentityKind.CHAT, value=visitor_id, display_name=name
        )
    if name and chat.display_name != name:
        chat.display_name = name
        chat.save(update_fields=["display_name"])
    if chat.customer_id == target.pk:
        return chat
    source = Customer.objects.select_for_update().get(pk=chat.customer_id)
    chat.customer = target
    chat.save(update_fields=["customer"])
    if not source.identities.exists():
        # The stand-in record of an anonymous visitor: its chats become the customer's.
        ticket_ids = list(source.tickets.values_list("pk", flat=True))
        Ticket.objects.filter(pk__in=ticket_ids).update(customer=target, updated_at=timezone.now())
        for ticket in Ticket.objects.filter(pk__in=ticket_ids):
            event_record(
                ticket=ticket,
                actor=None,
                kind=EventKind.CUSTOMER_MERGED,
                data={"from_customer": source.pk, "to_customer": target.pk, "by": "chat email"},
            )
        source.merged_into = target
        source.save(update_fields=["merged_into", "updated_at"])
        publish(
            CustomerMerged(
                actor=Actor(kind=ActorKind.CUSTOMER, identity_id=chat.pk),
                source_customer_id=source.pk,
                target_customer_id=target.pk,
                ticket_ids=tuple(ticket_ids),
            )
        )
    if target.name in ("", email_identity.value.split("@", 1)[0]) and name:
        target.name = name
        target.save(update_fields=["name", "updated_at"])
    return chat


def _ingest_frame(*, channel: ChatChannel, frame: dict[str, object]) -> ChatReceipt:
    raw = raw_inbound_store(
        channel=Channel.CHAT,
        adapter=chat_adapter.NAME,
        source=f"chat:{channel.key}",
        payload=json.dumps(frame).encode(),
        content_type="application/json",
    )
    result = raw_inbound_process(raw_id=raw.pk)
    if result is None:
        error = RawInbound.objects.filter(pk=raw.pk).values_list("error", flat=True).first()
        # The adapter's message is written for people ("The chat message is empty.").
        detail = (error or "").split(": ", 1)[-1] or "The message could not be read."
        raise ChatError(ChatErrorCode.INVALID, detail)
    return ChatReceipt(result.message.pk, result.ticket.number, result.duplicate)


def chat_message_receive(
    *, channel: ChatChannel, visitor_id: str, client_id: str, text: str
) -> ChatReceipt:
    """A visitor's message: stored as received, then onto their open ticket (or a new one).
    Idempotent on the client's message id."""
    if channel.require_email and not chat_visitor_email(visitor_id=visitor_id):
        raise ChatError(
            ChatErrorCode.IDENTIFY_FIRST, "Please tell us your name and email to start the chat."
        )
    known = ContactIdentity.objects.filter(kind=IdentityKind.CHAT, value=visitor_id).first()
    name = known.display_name if known is not None and known.display_name else VISITOR_NAME
    receipt = _ingest_frame(
        channel=channel,
        frame={
            "visitor": visitor_id,
            "id": client_id[:100],
            "text": text,
            "name": name,
            "team_id": channel.team_id,
        },
    )
    if not receipt.duplicate:
        publish_chats_waiting_changed(arrived=True)
    return receipt


def chat_offline_message(
    *, channel: ChatChannel, visitor_id: str, client_id: str, name: str, email: str, text: str
) -> ChatReceipt:
    """No agent online: the message becomes a ticket answered by email."""
    chat_visitor_identify(visitor_id=visitor_id, name=name, email=email)
    return _ingest_frame(
        channel=channel,
        frame={
            "visitor": visitor_id,
            "id": client_id[:100],
            "text": text,
            "name": name,
            "email": email,
            "offline": True,
            "team_id": channel.team_id,
        },
    )


def chat_replies_received(*, visitor_id: str, ids: Iterable[object]) -> int:
    """The visitor's widget got these replies (ids as the widget saw them, "m<pk>"): their
    chat deliveries to this visitor become delivered and the agent's badge follows.

    Only deliveries addressed to this visitor can change, so a malformed, unknown or
    someone else's id is ignored, as is a repeat. A reply the widget got with the history
    (the visitor came back) counts too, whatever its send status was. Returns how many
    deliveries changed."""
    pks: set[int] = set()
    for raw in list(ids)[:HISTORY_LIMIT]:
        found = REPLY_ID.fullmatch(raw) if isinstance(raw, str) else None
        if found:
            pks.add(int(found[1]))
    if not pks:
        return 0
    mine = Delivery.objects.filter(
        message_id__in=pks, channel=Channel.CHAT, recipient=visitor_id
    ).exclude(status=DeliveryStatus.DELIVERED)
    rows = list(mine.values_list("pk", "message_id", "message__ticket_id"))
    if not rows:
        return 0
    now = timezone.now()
    with transaction.atomic():
        changed = mine.filter(pk__in=[pk for pk, _, _ in rows]).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            sent_at=Coalesce("sent_at", Value(now)),
            last_error="",
            updated_at=now,
        )
        for pk, message_id, ticket_id in rows:
            publish_delivery_changed(
                ticket_id=ticket_id,
                message_id=message_id,
                delivery_id=pk,
                status=DeliveryStatus.DELIVERED,
                label=str(DeliveryStatus.DELIVERED.label),
                detail="",
            )
    return changed


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # typing hints are disposable
        logger.warning("could not send %s to %s", message.get("type"), group, exc_info=True)


def chat_visitor_typing(*, visitor_id: str, typing: bool) -> int | None:
    """Tell agents watching the visitor's ticket that the visitor is (not) typing."""
    ticket = chat_visitor_ticket(visitor_id=visitor_id)
    if ticket is None:
        return None
    _group_send(
        ticket_group(ticket.pk),
        {
            "type": "helpdesk.event",
            "payload": {
                "kind": "typing",
                "ticket_id": ticket.pk,
                "who": "customer",
                "typing": typing,
            },
        },
    )
    return ticket.pk


def chat_agent_typing(*, ticket_id: int, agent_name: str, typing: bool) -> int:
    """Show (or hide) "<agent> is typing…" in the widgets of the ticket's chat visitors.
    For the agent workspace to call while an agent writes a chat reply. Returns how many
    visitors were told."""
    visitors = set(
        Message.objects.filter(
            ticket_id=ticket_id,
            channel=Channel.CHAT,
            direction=Direction.INBOUND,
            author_identity__kind=IdentityKind.CHAT,
        ).values_list("author_identity__value", flat=True)
    )
    for visitor_id in visitors:
        _group_send(
            chat_visitor_group(visitor_id),
            {"type": "chat.typing", "typing": typing, "author": agent_name},
        )
    return len(visitors)


def chat_transcript_request(*, visitor_id: str) -> str:
    """Email the visitor their chat (after commit). Returns the address it goes to."""
    email = chat_visitor_email(visitor_id=visitor_id)
    if not email:
        raise ChatError(
            ChatErrorCode.NO_EMAIL, "Tell us your email address first, then ask for the transcript."
        )
    if not _visitor_messages(visitor_id).exists():
        raise ChatError(ChatErrorCode.NO_CONVERSATION, "There is nothing to send yet.")

    def enqueue() -> None:
        from channels_app.tasks import chat_transcript_send_task

        chat_transcript_send_task.delay(visitor_id, email)

    transaction.on_commit(enqueue)
    return email


def chat_transcript_send(*, visitor_id: str, email: str) -> int:
    """Send the transcript now. Returns the number of messages in it."""
    history = chat_history(visitor_id=visitor_id, limit=500)
    lines = []
    for item in history:
        who = "You" if item["direction"] == Direction.INBOUND else (item["author"] or "Support")
        lines.append(f"[{item['at'][:16].replace('T', ' ')} UTC] {who}: {item['text']}")
    send_mail(
        subject="Your chat transcript",
        message="Here is your conversation with us.\n\n" + "\n\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
        fail_silently=False,
    )
    return len(history)
