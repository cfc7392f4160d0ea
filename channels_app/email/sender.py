"""Email out: the RFC 5322 message for a reply or a notification, SMTP or an ESP
(anymail), and what the provider reports back (delivered, bounced)."""

import smtplib
from email.utils import formataddr, make_msgid
from html import escape

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from channels_app.email.mailboxes import mailbox_for_ticket, own_addresses, ticket_reply_address
from channels_app.models import AgentSignature, Delivery, DeliveryStatus
from channels_app.notifications import notification_render
from channels_app.senders import (
    PermanentDeliveryError,
    TemporaryDeliveryError,
    reply_of,
)
from tickets.models import Channel, ContactIdentity, Direction, IdentityKind, Message


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
        channel=Channel.EMAIL,
        message__rfc_message_id=message_id,
        message__direction=Direction.OUTBOUND,
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
            kind=IdentityKind.EMAIL,
            value__in={a.strip().lower() for a in addresses},
            opted_out_at=None,
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
            list(deliveries.filter(channel=Channel.EMAIL).values_list("recipient", flat=True))
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
