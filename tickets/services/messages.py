"""Messages: agents' replies and notes, and the attachments and threading they carry."""

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from tickets.domain_events import (
    MessageAdded,
    publish,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.files import content_magic
from tickets.html import html_to_text, sanitize_html
from tickets.models import (
    Attachment,
    Channel,
    ContactIdentity,
    Direction,
    IdentityKind,
    Message,
    Status,
    Ticket,
)
from tickets.replies import reply_channel_for, reply_rule
from tickets.safe_names import safe_filename
from tickets.services.base import _require_agent, _touch, actor_of
from tickets.services.merge import ticket_resolve_merged
from tickets.services.tickets import ticket_assign, ticket_set_status
from tickets.sla.services import sla_recompute


@dataclass(frozen=True)
class NewFile:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


# type/subtype only: parameters and anything odd (a newline would break the header we
# later send it in) are dropped.
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def content_type_clean(value: str) -> str:
    kind = (value or "").split(";", 1)[0].strip().lower()
    return kind if _CONTENT_TYPE.match(kind) else "application/octet-stream"


def attachment_store(*, message: Message, file: NewFile) -> Attachment:
    digest = hashlib.sha256(file.content).hexdigest()
    name = safe_filename(file.filename)
    # What the bytes are beats what the sender declared: an .exe sent as application/pdf
    # is stored, typed and shown as a program.
    attachment = Attachment(
        message=message,
        filename=name,
        content_type=content_magic(file.content) or content_type_clean(file.content_type),
        size=len(file.content),
        sha256=digest,
        content_id=file.content_id.strip("<>")[:255],
    )
    attachment.file.save(name, ContentFile(file.content), save=False)
    attachment.save()
    return attachment


def new_rfc_message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">").strip() or "helpdesk"
    return f"<{uuid.uuid4().hex}@{domain}>"


def reply_channel_default(*, ticket: Ticket) -> str:
    """The channel of the customer's last inbound message, mapped to one we can send on."""
    last = (
        Message.objects.filter(ticket=ticket, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )
    return reply_channel_for(last or ticket.channel)


def reply_recipient(*, ticket: Ticket, channel: str) -> ContactIdentity:
    kind = reply_rule(channel).recipient_kind
    if kind is None:
        raise TicketError(TicketErrorCode.NO_RECIPIENT, f"Replies cannot be sent by {channel}.")
    # Prefer the identity the customer last wrote from on that channel.
    last = (
        Message.objects.filter(
            ticket=ticket, direction=Direction.INBOUND, author_identity__kind=kind
        )
        .select_related("author_identity")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is not None and last.author_identity is not None:
        return last.author_identity
    identity = ticket.customer.identities.filter(kind=kind).order_by("pk").first()
    if identity is None:
        raise TicketError(
            TicketErrorCode.NO_RECIPIENT,
            f"{ticket.customer} has no {IdentityKind(kind).label.lower()} to reply to. Add one "
            "to the customer or reply on another channel.",
        )
    return identity


@transaction.atomic
def message_reply(
    *,
    ticket: Ticket,
    author: Any,
    body_text: str,
    body_html: str = "",
    channel: str | None = None,
    is_internal: bool = False,
    attachments: Sequence[NewFile] = (),
    set_status: str | None = None,
) -> Message:
    """An agent's public reply (delivered on `channel`) or internal note (never delivered).

    Precondition: `author` is an agent. The Message is written, and MessageAdded published
    with its recipients, in one transaction: the outbox (channels_app.delivery) writes a
    Delivery per recipient in that transaction and enqueues the send on commit.
    """
    _require_agent(author, what="reply to tickets")
    body_html = sanitize_html(body_html)
    if not body_text.strip() and body_html:
        body_text = html_to_text(body_html)
    if not body_text.strip() and not attachments:
        raise TicketError(TicketErrorCode.EMPTY_MESSAGE, "Write a message before sending.")
    ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
    if ticket.merged_into_id:
        target = ticket_resolve_merged(ticket)
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            f"This ticket was merged into #{target.number}. Reply there.",
        )
    if ticket.customer.erased_at is not None:
        raise TicketError(
            TicketErrorCode.ALREADY_ERASED,
            "This ticket's customer was erased: it keeps no new messages. Close it.",
        )
    now = timezone.now()
    recipients: list[ContactIdentity] = []
    if channel is not None and channel not in Channel.values:
        raise TicketError(
            TicketErrorCode.INVALID_CHANNEL,
            f"Unknown channel “{channel}”. Use one of: {', '.join(Channel.values)}.",
        )
    channel = channel or reply_channel_default(ticket=ticket)
    rule = reply_rule(channel)
    threaded = rule.threaded and not is_internal
    if not is_internal:
        recipients.append(reply_recipient(ticket=ticket, channel=channel))
        if rule.copies_followers:
            recipients.extend(ticket.followers.filter(kind=rule.recipient_kind, opted_out_at=None))
    last_inbound = (
        Message.objects.filter(ticket=ticket, direction=Direction.INBOUND, is_internal=False)
        .exclude(rfc_message_id="")
        .order_by("-created_at", "-id")
        .first()
    )
    message = Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Direction.OUTBOUND,
        is_internal=is_internal,
        author_user=author,
        subject=ticket.subject,
        body_text=body_text,
        body_html=body_html,
        rfc_message_id=new_rfc_message_id() if threaded else "",
        in_reply_to=last_inbound.rfc_message_id if threaded and last_inbound else "",
        references=_references_for(ticket) if threaded else "",
        created_at=now,
    )
    for file in attachments:
        attachment_store(message=message, file=file)
    fields: list[str] = []
    addresses = tuple(dict.fromkeys(identity.value for identity in recipients))
    if not is_internal:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
        if ticket.status == Status.NEW and set_status is None:
            # Answered: the ticket is now being worked.
            set_status = Status.OPEN
    _touch(ticket, fields)
    publish(
        MessageAdded(
            actor=actor_of(author),
            ticket_id=ticket.pk,
            message_id=message.pk,
            channel=channel,
            direction=Direction.OUTBOUND,
            is_internal=is_internal,
            recipients=addresses,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
        )
    )
    if not is_internal and ticket.assignee_id is None and settings.HELPDESK_ASSIGN_ON_REPLY:
        # Whoever answers an unclaimed ticket owns it (as Help Scout does); a note is not
        # an answer, so it leaves the ticket in the unassigned queue.
        ticket_assign(ticket=ticket, agent=author, actor=author)
    if not is_internal:
        sla_recompute(ticket=ticket)  # SLA engine: due times follow the change
    if set_status:
        ticket_set_status(ticket=ticket, status=set_status, actor=author)
    return message


def _references_for(ticket: Ticket) -> str:
    # The thread's Message-IDs, oldest first, capped as mail clients do (RFC 5322 3.6.4).
    ids = list(
        Message.objects.filter(ticket=ticket)
        .exclude(rfc_message_id="")
        .order_by("created_at", "id")
        .values_list("rfc_message_id", flat=True)
    )
    if len(ids) > 20:
        ids = ids[:1] + ids[-19:]
    return " ".join(ids)


def note_add(*, ticket: Ticket, author: Any, body_text: str) -> Message:
    return message_reply(ticket=ticket, author=author, body_text=body_text, is_internal=True)
