"""A customer's message that an agent records for them: a phone call written up, a web or
API form filled in on their behalf. Adapters' messages go through channels_app's ingest;
this is the same history entry, written by an agent instead of a provider."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpdesk.roles import is_agent
from tickets.domain_events import MessageAdded, publish
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import (
    REOPENABLE_STATUSES,
    Channel,
    ContactIdentity,
    Direction,
    Message,
    Status,
    Ticket,
)
from tickets.services import NewFile, actor_of, attachment_store, ticket_set_status
from tickets.sla.services import sla_recompute

# Channels on which an agent may write down what a customer said. Email, SMS and chat
# messages come from their providers only, so their records always match what was sent.
RECORDABLE_CHANNELS = frozenset({Channel.PHONE, Channel.WEB, Channel.API})


@transaction.atomic
def customer_message_record(
    *,
    ticket: Ticket,
    identity: ContactIdentity,
    channel: str,
    body_text: str,
    recorded_by: Any,
    attachments: tuple[NewFile, ...] = (),
    received_at: datetime | None = None,
    new_ticket: bool = False,
) -> Message:
    """The customer's inbound, public message on `channel`, as if it had come in there:
    it starts or restarts the response clocks and reopens a pending or solved ticket.

    Preconditions: `recorded_by` is an agent; `identity` is one of the ticket's customer's.
    `new_ticket=True` when the ticket was created in this transaction (its row is ours).
    """
    if not is_agent(recorded_by):
        raise TicketError(TicketErrorCode.NOT_AN_AGENT, "Only agents can record messages.")
    if channel not in RECORDABLE_CHANNELS:
        raise TicketError(
            TicketErrorCode.INVALID_CHANNEL,
            f"A customer's message can be recorded on {', '.join(sorted(RECORDABLE_CHANNELS))} "
            f"only; messages by {channel} come from the channel itself.",
        )
    if not body_text.strip() and not attachments:
        raise TicketError(TicketErrorCode.EMPTY_MESSAGE, "Write down what the customer said.")
    if identity.customer_id != ticket.customer_id:
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY,
            f"{identity.value} is not a contact of ticket #{ticket.number}'s customer.",
        )
    if not new_ticket:
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    at = received_at or timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        channel=channel,
        direction=Direction.INBOUND,
        author_identity=identity,
        subject=ticket.subject,
        body_text=body_text,
        created_at=at,
    )
    for file in attachments:
        attachment_store(message=message, file=file)
    ticket.last_inbound_at = at
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["last_inbound_at", "updated_at"])
    if ticket.status in REOPENABLE_STATUSES:
        ticket = ticket_set_status(ticket=ticket, status=Status.OPEN, actor=recorded_by)
    sla_recompute(ticket=ticket, ticket_locked=True, new_ticket=new_ticket)
    publish(
        MessageAdded(
            actor=actor_of(recorded_by),
            ticket_id=ticket.pk,
            message_id=message.pk,
            channel=channel,
            direction=Direction.INBOUND,
            is_internal=False,
            opens_ticket=new_ticket,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            at=at,
        )
    )
    return message
