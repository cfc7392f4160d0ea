"""Outbound delivery, shared by every channel.

The Delivery row is the outbox. A reply writes it in the reply's transaction and the send
is enqueued on commit. A worker claims a delivery with a conditional update, so two
workers (or a task that runs twice) never send twice; the relay re-enqueues what is still
queued after a minute, so a lost enqueue delays a send but never drops it.
"""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, make_msgid
from html import escape
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels_app.mailboxes import mailbox_for_ticket, own_addresses, ticket_reply_address
from channels_app.models import RESENT_NOTE, AgentSignature, Delivery, DeliveryStatus
from channels_app.notifications import NotificationSkipped, notification_render
from channels_app.presence import visitor_online
from tickets.domain_events import MessageAdded
from tickets.errors import TicketError, TicketErrorCode
from tickets.events import publish_chats_waiting_changed, publish_delivery_changed
from tickets.models import Channel, ContactIdentity, Direction, IdentityKind, Message

logger = logging.getLogger(__name__)

# The relay's two thresholds are settings (HELPDESK_DELIVERY_RELAY_AFTER, 60 s, and
# HELPDESK_DELIVERY_STALE_AFTER, 300 s). A delivery stuck in `sending` that long was cut
# off mid-send (worker killed): far longer than any send takes (SMTP and Twilio time out
# in well under a minute). It may or may not have gone out; it is sent again, at least
# once rather than never: an email keeps its Message-ID, so the receiver's client threads
# and deduplicates a second copy.

BACKOFF_SECONDS = (30, 120, 600, 1800)  # each far below the broker's visibility timeout


class TemporaryDeliveryError(Exception):
    """Worth retrying: the provider or network is down, or it asked us to slow down."""


class PermanentDeliveryError(Exception):
    """Retrying will not help: bad recipient, rejected content, opted-out number."""


class UndeliveredError(Exception):
    """Handed over, but nobody was there to take it (a chat visitor who closed the page):
    recorded as undelivered with the reason, never retried; a later receipt still counts."""


@dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: int | None = None


Backend = Callable[[Delivery], str]  # sends, returns the provider's id


def delivery_create(*, message_id: int, channel: str, recipient: str) -> Delivery:
    """Write the outbox row (inside the caller's transaction) and enqueue it on commit."""
    if channel == Channel.SMS and _opted_out_since(recipient) is not None:
        # Refused before anything is written, so the agent sees why at once.
        raise TicketError(TicketErrorCode.NO_RECIPIENT, _opted_out_text(recipient))
    delivery = Delivery.objects.create(message_id=message_id, channel=channel, recipient=recipient)
    delivery_enqueue_on_commit(delivery.pk)
    if channel == Channel.CHAT:
        publish_chats_waiting_changed(arrived=False)  # answered: one chat fewer waiting
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


def reply_of(delivery: Delivery) -> Message:
    """The reply a channel backend sends (notifications have none and never get here)."""
    if delivery.message is None:
        raise PermanentDeliveryError("This delivery has no message to send.")
    return delivery.message


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
    backend = BACKENDS.get(delivery.channel) if delivery.message_id else send_notification
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


# --- channel backends -------------------------------------------------------------------


def _signature(message: Message) -> str:
    if message.author_user_id is None or message.is_automated:
        return ""
    text = (
        AgentSignature.objects.filter(user_id=message.author_user_id)
        .values_list("text", flat=True)
        .first()
    )
    return (text or "").strip()


def _html_from_text(text: str) -> str:
    return "".join(
        f"<p>{escape(block).replace(chr(10), '<br>')}</p>" for block in text.split("\n\n")
    )


def email_build(delivery: Delivery) -> EmailMultiAlternatives:
    """The RFC 5322 message for one delivery: threading headers, reply address, token in
    the subject, text and HTML, attachments, the agent's signature, and Auto-Submitted on
    anything automatic."""
    message = reply_of(delivery)
    ticket = message.ticket
    if delivery.recipient.strip().lower() in own_addresses():
        raise PermanentDeliveryError(
            f"{delivery.recipient} is one of our own mailboxes; mail to it would loop back "
            "in as a new ticket. Reply to the customer's own address instead."
        )
    mailbox = mailbox_for_ticket(ticket=ticket)
    from_email = (
        formataddr((mailbox.name, mailbox.address)) if mailbox else settings.DEFAULT_FROM_EMAIL
    )
    token = f"[#{ticket.number}]"
    if message.is_automated and message.subject:
        subject = message.subject if token in message.subject else f"{message.subject} {token}"
    else:
        subject = f"Re: {token} {ticket.subject}"
    headers = {"Message-ID": message.rfc_message_id or _stable_message_id(delivery)}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.is_automated:
        # RFC 3834: an answer to a customer's mail, sent by a machine. Exchange honours
        # the second header and sends no out-of-office back.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    text = message.body_text
    html = message.body_html or _html_from_text(text)
    signature = _signature(message)
    if signature:
        text = f"{text.rstrip()}\n\n-- \n{signature}\n"
        html = f"{html}<p>-- <br>{escape(signature).replace(chr(10), '<br>')}</p>"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[delivery.recipient],
        reply_to=[ticket_reply_address(ticket=ticket, mailbox=mailbox)] if mailbox else None,
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as fh:
            email.attach(attachment.filename, fh.read(), attachment.content_type)
    return email


def _stable_message_id(delivery: Delivery) -> str:
    """A Message-ID that every attempt of this delivery shares (a resend after a crash is
    recognised as the same mail), for messages that carry none of their own."""
    domain = make_msgid().rsplit("@", 1)[1].rstrip(">")
    return f"<helpdesk.delivery.{delivery.pk}@{domain}>"


def send_notification(delivery: Delivery) -> str:
    """An automatic mail from the outbox (acknowledgement, sign-in link, rating request,
    agent notification), written now by its purpose's renderer."""
    mail = notification_render(delivery)
    headers = {
        "Message-ID": _stable_message_id(delivery),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        **mail.headers,
    }
    email = EmailMultiAlternatives(
        subject=" ".join(mail.subject.split())[:200],
        body=mail.body,
        from_email=mail.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[mail.to],
        headers=headers,
    )
    return _smtp_send(email)


def send_email(delivery: Delivery) -> str:
    return _smtp_send(email_build(delivery))


def _smtp_send(email: EmailMultiAlternatives) -> str:
    try:
        connection = get_connection(fail_silently=False)
        connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            # Greylisting or a full mailbox: the server asks us to come back later.
            raise TemporaryDeliveryError(
                f"The mail server deferred the address: {exc.recipients}"
            ) from exc
        raise PermanentDeliveryError(
            f"The mail server refused the address: {exc.recipients}"
        ) from exc
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise TemporaryDeliveryError(f"Mail server said {exc.smtp_code}: {exc}") from exc
        raise PermanentDeliveryError(f"Mail server said {exc.smtp_code}: {exc}") from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TemporaryDeliveryError(f"Could not reach the mail server: {exc}") from exc
    # An ESP (anymail) reports its own id; SMTP's is our Message-ID.
    status = getattr(email, "anymail_status", None)
    provider_id = getattr(status, "message_id", None) if status is not None else None
    return str(provider_id or email.extra_headers["Message-ID"])


def delivery_mark_bounced(*, message_id: str, recipient: str = "") -> int:
    """Mark the email deliveries of our message `message_id` bounced (for `recipient`
    when the bounce names one of them). Returns how many rows changed."""
    deliveries = Delivery.objects.filter(
        channel="email",
        message__rfc_message_id=message_id,
        message__direction="outbound",
    ).exclude(status=DeliveryStatus.BOUNCED)
    address = recipient.strip().strip("<>").lower()
    if address and deliveries.filter(recipient__iexact=address).exists():
        deliveries = deliveries.filter(recipient__iexact=address)
    for_whom = f" for {address}" if address else ""
    _email_identities_bounced(list(deliveries.values_list("recipient", flat=True)))
    return deliveries.update(
        status=DeliveryStatus.BOUNCED,
        last_error=(
            f"The receiving server bounced the message{for_whom}. Check the address with the "
            "customer, or reach them on another channel."
        ),
        updated_at=timezone.now(),
    )


def _email_identities_bounced(addresses: list[str]) -> None:
    # A hard bounce stops automatic mail (acknowledgements, follower copies) to the
    # address until the person writes in again from it (see email_ingested).
    if addresses:
        ContactIdentity.objects.filter(
            kind="email", value__in={a.strip().lower() for a in addresses}, opted_out_at=None
        ).update(opted_out_at=timezone.now())


# ESP tracking events (anymail's normalized event_type) that end a delivery.
_BOUNCE_EVENTS = {"bounced", "rejected", "failed"}


def delivery_record_provider_event(
    *, provider_id: str, event: str, recipient: str = "", detail: str = ""
) -> int:
    """Record what the provider later said about a sent delivery: delivered, or bounced
    (hard bounce, rejection, permanent failure). Returns how many rows changed."""
    if not provider_id:
        return 0
    deliveries = Delivery.objects.filter(provider_id=provider_id)
    if recipient:
        deliveries = deliveries.filter(recipient__iexact=recipient.strip())
    now = timezone.now()
    if event == "delivered":
        return deliveries.filter(status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.DELIVERED, delivered_at=now, updated_at=now
        )
    if event in _BOUNCE_EVENTS:
        _email_identities_bounced(
            list(deliveries.filter(channel="email").values_list("recipient", flat=True))
        )
        reason = detail.strip() or "the receiving server refused it"
        return deliveries.exclude(status=DeliveryStatus.BOUNCED).update(
            status=DeliveryStatus.BOUNCED,
            last_error=(
                f"The provider reports the message {event}: {reason}. Check the address "
                "with the customer, or reach them on another channel."
            )[:5000],
            updated_at=now,
        )
    return 0


def _opted_out_since(phone: str) -> str | None:
    stamp = (
        ContactIdentity.objects.filter(
            kind=IdentityKind.PHONE, value=phone, opted_out_at__isnull=False
        )
        .values_list("opted_out_at", flat=True)
        .first()
    )
    return f"{stamp:%Y-%m-%d %H:%M} UTC" if stamp else None


def _opted_out_text(phone: str) -> str:
    return (
        f"{phone} opted out of texts (replied STOP, {_opted_out_since(phone)}). No SMS is "
        "sent until they text START; reply by email instead."
    )


SMS_MAX_LENGTH = 1600  # Twilio's limit for one message; it segments below that itself


def send_sms(delivery: Delivery) -> str:
    from twilio.base.exceptions import TwilioRestException

    from channels_app.sms import (
        OPTED_OUT_ERROR,
        STATUS_PATH,
        public_url,
        sms_number_for_ticket,
        twilio_client,
    )

    if _opted_out_since(delivery.recipient) is not None:
        raise PermanentDeliveryError(_opted_out_text(delivery.recipient))
    body = reply_of(delivery).body_text.strip()
    if len(body) > SMS_MAX_LENGTH:
        raise PermanentDeliveryError(
            f"The reply is {len(body)} characters; a text can carry {SMS_MAX_LENGTH}. "
            "Shorten it or reply by email."
        )
    number = sms_number_for_ticket(ticket=reply_of(delivery).ticket)
    if number is None:
        raise PermanentDeliveryError(
            "No active SMS number is configured. An admin can add one under SMS numbers."
        )
    client = twilio_client(number=number)
    try:
        if delivery.last_error == RESENT_NOTE:
            # Cut off mid-send: the provider may have it already. Ask before texting twice.
            earlier = _sms_already_sent(client, delivery=delivery, sender=number.phone, body=body)
            if earlier:
                return earlier
        sent = client.messages.create(
            to=delivery.recipient,
            from_=number.phone,
            body=body,
            status_callback=public_url(STATUS_PATH),
        )
    except TwilioRestException as exc:
        detail = f"Twilio said {exc.status} (error {exc.code}): {exc.msg}"
        if exc.code == OPTED_OUT_ERROR:
            ContactIdentity.objects.filter(
                kind=IdentityKind.PHONE, value=delivery.recipient, opted_out_at__isnull=True
            ).update(opted_out_at=timezone.now())
            raise PermanentDeliveryError(_opted_out_text(delivery.recipient)) from exc
        if exc.status == 429 or exc.status >= 500:
            raise TemporaryDeliveryError(detail) from exc
        raise PermanentDeliveryError(detail) from exc
    except OSError as exc:  # requests' connection errors and timeouts derive from it
        raise TemporaryDeliveryError(f"Could not reach the SMS provider: {exc}") from exc
    return str(sent.sid)


def _sms_already_sent(client: Any, *, delivery: Delivery, sender: str, body: str) -> str:
    """The provider's id of this delivery's text if the provider already has it, else "".

    Twilio takes no idempotency key, but lists what an account sent: the same body from
    our number to the recipient since the delivery was written is this delivery."""
    since = delivery.created_at - timedelta(minutes=1)
    for message in client.messages.list(
        to=delivery.recipient, from_=sender, date_sent_after=since, limit=50
    ):
        created = message.date_created or message.date_sent
        if (message.body or "").strip() == body and (created is None or created >= since):
            return str(message.sid)
    return ""


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


BACKENDS: dict[str, Backend] = {
    "email": send_email,
    "sms": send_sms,
    "chat": send_chat,
}
