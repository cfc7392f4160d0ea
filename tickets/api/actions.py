"""What one API request does when it takes several core services: each function is one
transaction, so a refusal half-way leaves nothing behind."""

from typing import Any

from django.db import transaction
from rest_framework import serializers

from tickets.customer_messages import customer_message_record
from tickets.models import Channel, ContactIdentity, Customer, IdentityKind, Ticket
from tickets.services import (
    identity_add,
    identity_resolve,
    message_reply,
    ticket_assign,
    ticket_create,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_subject,
    ticket_set_team,
    ticket_tags_change,
)

# Channels whose first message goes out to the customer; on the others it is theirs.
SENDING_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})
# The identity a customer's message on a channel is written from, when they have several.
_KIND_OF_CHANNEL: dict[str, str] = {
    Channel.PHONE: IdentityKind.PHONE,
    Channel.WEB: IdentityKind.EMAIL,
}


def _identity_for(ref: dict[str, Any], *, actor: Any) -> ContactIdentity:
    """The identity an email or phone reference names, created with its customer when new;
    both given: one customer with both."""
    first, other = (
        (IdentityKind.EMAIL, IdentityKind.PHONE) if "email" in ref else (IdentityKind.PHONE, None)
    )
    identity = identity_resolve(kind=first, value=ref[first], display_name=ref["name"])
    if other is not None and ref.get(other):
        identity_add(customer=identity.customer, kind=other, value=ref[other], actor=actor)
    return identity


def _author(customer: Customer, channel: str, given: ContactIdentity | None) -> ContactIdentity:
    wanted = _KIND_OF_CHANNEL.get(channel)
    identities = list(customer.identities.order_by("pk"))
    for identity in identities:
        if identity.kind == wanted:
            return identity
    if given is not None:
        return given
    if identities:
        return identities[0]
    raise serializers.ValidationError(
        {"customer": [f"{customer} has no email or phone to record the message from."]}
    )


def ticket_create_from_api(*, actor: Any, data: dict[str, Any], customers: Any) -> Ticket:
    """A ticket for a customer (by id: one of `customers`, those the actor may see). On
    `email` and `sms` the text is the first message, sent to the customer through the
    outbox; on `phone`, `web` and `api` it is the customer's own inbound message on that
    channel (tickets.customer_messages)."""
    ref, channel = data["customer"], data["channel"]
    with transaction.atomic():
        if "id" in ref:
            customer = customers.filter(pk=ref["id"]).first()
            if customer is None:
                raise serializers.ValidationError(
                    {"customer": [f"There is no customer {ref['id']}."]}
                )
            identity = None
        else:
            identity = _identity_for(ref, actor=actor)
            customer = identity.customer
        sends = channel in SENDING_CHANNELS
        ticket = ticket_create(
            customer=customer,
            subject=data["subject"],
            channel=channel,
            actor=actor,
            priority=data["priority"],
            team=data.get("team"),
            assignee=data.get("assignee"),
            defer_sla=not sends,  # the customer's message below starts the clocks
        )
        if sends:
            message_reply(ticket=ticket, author=actor, body_text=data["text"], channel=channel)
        else:
            customer_message_record(
                ticket=ticket,
                identity=_author(customer, channel, identity),
                channel=channel,
                body_text=data["text"],
                recorded_by=actor,
                new_ticket=True,
            )
        if data["tags"]:
            ticket_tags_change(ticket=ticket, actor=actor, add=data["tags"])
    return ticket


def ticket_update_from_api(*, ticket: Ticket, actor: Any, changes: dict[str, Any]) -> None:
    """Apply a PATCH through the services, all or nothing."""
    with transaction.atomic():
        if "subject" in changes:
            ticket = ticket_set_subject(ticket=ticket, subject=changes["subject"], actor=actor)
        if "priority" in changes:
            ticket = ticket_set_priority(ticket=ticket, priority=changes["priority"], actor=actor)
        if "team" in changes:
            ticket = ticket_set_team(ticket=ticket, team=changes["team"], actor=actor)
        if "assignee" in changes:
            ticket = ticket_assign(ticket=ticket, agent=changes["assignee"], actor=actor)
        if "status" in changes:
            ticket = ticket_set_status(ticket=ticket, status=changes["status"], actor=actor)
        add, remove = list(changes.get("add_tags", ())), list(changes.get("remove_tags", ()))
        if "tags" in changes:
            current = set(ticket.tags.values_list("name", flat=True))
            wanted = set(changes["tags"])
            add, remove = sorted(wanted - current), sorted(current - wanted)
        if add or remove:
            ticket_tags_change(ticket=ticket, actor=actor, add=add, remove=remove)
