"""Email out, besides agent replies: acknowledgements, agent notifications, bounces, and
what a ticket's mail looks like (its mailbox, its reply address, the portal link).

Automatic mail says so (RFC 3834 Auto-Submitted) and is never sent to our own mailboxes
or to an automated sender, so two systems cannot answer each other forever.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from channels_app.delivery import delivery_create
from channels_app.email.mailboxes import (
    mailbox_active,
    own_addresses,
    ticket_portal_link,
)
from channels_app.email.sender import delivery_mark_bounced
from channels_app.inbound import InboundMessage
from channels_app.models import Delivery, Mailbox, RawInbound
from tickets.models import Channel, ContactIdentity, Direction, Message, Ticket

logger = logging.getLogger(__name__)


# --- after ingest -----------------------------------------------------------------------


def email_ingested(
    *,
    message: InboundMessage,
    stored: Message,
    ticket: Ticket,
    created: bool,
    raw: RawInbound | None,
) -> None:
    """The email channel's ingest hook (channels_app.registry), inside ingest's
    transaction: a bounce marks our delivery, a new email ticket is acknowledged.
    Automated mail is stored and never answered."""
    if message.meta.get("bounce_message_id"):
        delivery_mark_bounced(
            message_id=message.meta["bounce_message_id"],
            recipient=message.meta.get("bounce_recipient", ""),
        )
    if message.is_automated:
        return
    identity = stored.author_identity if stored.author_identity_id else None
    # The identity was read by this ingest's transaction: only one marked opted out (by an
    # earlier bounce) needs the write.
    if message.channel == Channel.EMAIL and identity is not None and identity.opted_out_at:
        # They wrote from this address, so it works again after an earlier bounce.
        ContactIdentity.objects.filter(pk=identity.pk, opted_out_at__isnull=False).update(
            opted_out_at=None
        )
    if created:
        mailbox = _mailbox_of(raw) if message.channel == Channel.EMAIL else None
        if mailbox is not None:
            acknowledgement_create(ticket=ticket, inbound=stored, mailbox=mailbox)


def _mailbox_of(raw: RawInbound | None) -> Mailbox | None:
    mailbox_id = str((raw.meta or {}).get("mailbox_id", "")) if raw is not None else ""
    if not mailbox_id.isdigit():
        return None
    return mailbox_active(mailbox_id=int(mailbox_id))


# --- acknowledgements -------------------------------------------------------------------


def _render(template: str, values: dict[str, str]) -> str:
    # Plain replacement, not str.format: an admin's stray brace cannot break the mail.
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return "\n".join(line.rstrip() for line in template.splitlines()).strip() + "\n"


def acknowledgement_create(*, ticket: Ticket, inbound: Message, mailbox: Mailbox) -> Message | None:
    """Answer a new ticket's first email with its reference, unless the mailbox has
    acknowledgements off, the address opted out or is ours, or it already got
    HELPDESK_ACK_MAX_PER_HOUR acknowledgements this hour. Runs in the caller's
    transaction; the send is enqueued on commit."""
    from tickets.services import new_rfc_message_id  # tickets.services imports this module

    if not mailbox.send_acknowledgement or inbound.author_identity_id is None:
        return None
    # Locking the identity serializes concurrent first mails from one address, so the
    # hourly cap holds under parallel workers.
    identity = ContactIdentity.objects.select_for_update().get(pk=inbound.author_identity_id)
    address = identity.value
    if identity.opted_out_at is not None or address in own_addresses():
        return None
    recent = Delivery.objects.filter(
        channel=Channel.EMAIL,
        recipient=address,
        message__is_automated=True,
        message__direction=Direction.OUTBOUND,
        created_at__gte=timezone.now() - timedelta(hours=1),
    ).count()
    if recent >= settings.HELPDESK_ACK_MAX_PER_HOUR:
        logger.info("acknowledgement to %s skipped: %s sent this hour", address, recent)
        return None
    customer = ticket.customer
    values = {
        "number": str(ticket.number),
        "subject": ticket.subject,
        "name": customer.first_name or customer.name or address,
        "portal_link": ticket_portal_link(ticket=ticket),
    }
    references = " ".join(filter(None, [inbound.references, inbound.rfc_message_id]))
    ack = Message.objects.create(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        is_automated=True,
        subject=_render(mailbox.ack_subject, values).strip()[:255],
        body_text=_render(mailbox.ack_body, values),
        rfc_message_id=new_rfc_message_id(),
        in_reply_to=inbound.rfc_message_id,
        references=references[-20000:],
        created_at=timezone.now(),
    )
    delivery_create(message_id=ack.pk, channel=Channel.EMAIL, recipient=address)
    return ack
