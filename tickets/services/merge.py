"""Merging tickets and customers: the source keeps a pointer to the one that lives on."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from tickets.domain_events import (
    CustomerMerged,
    TicketMerged,
    publish,
)
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import (
    ContactIdentity,
    Customer,
    EventKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.services.base import _require_agent, _touch, actor_of, event_record
from tickets.sla.services import sla_recompute


@transaction.atomic
def customer_merge(*, source: Customer, target: Customer, actor: Any) -> Customer:
    """Move source's identities and tickets to target; source keeps a pointer to target."""
    _require_agent(actor, what="merge customers")
    if source.pk == target.pk:
        raise TicketError(TicketErrorCode.MERGE_SELF, "A customer cannot be merged into itself.")
    # Lock both rows in a fixed order so two opposite merges cannot deadlock or cross.
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            "One of these customers was already merged. Merge into the surviving record.",
        )
    ticket_ids = list(source.tickets.values_list("pk", flat=True))
    ContactIdentity.objects.filter(customer=source).update(customer=target)
    Ticket.objects.filter(customer=source).update(customer=target, updated_at=timezone.now())
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=ticket_id,
            actor=actor,
            kind=EventKind.CUSTOMER_MERGED,
            data={"from_customer": source.pk, "to_customer": target.pk},
        )
        for ticket_id in ticket_ids
    )
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    if target.organization_id is None and source.organization_id is not None:
        target.organization_id = source.organization_id
    if not target.name and source.name:
        target.name = source.name
    target.save(update_fields=["organization", "name", "updated_at"])
    publish(
        CustomerMerged(
            actor=actor_of(actor),
            source_customer_id=source.pk,
            target_customer_id=target.pk,
            ticket_ids=tuple(ticket_ids),
        )
    )
    return target


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Any) -> Ticket:
    """Move source's messages, events, followers and tags into target; close source.

    The source keeps `merged_into` so old links and replies to it land on the target.
    """
    _require_agent(actor, what="merge tickets")
    if source.pk == target.pk:
        raise TicketError(TicketErrorCode.MERGE_SELF, "A ticket cannot be merged into itself.")
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            "One of these tickets was already merged into another. Merge into the ticket it "
            "now lives on.",
        )
    if target.status == Status.CLOSED:
        raise TicketError(
            TicketErrorCode.INVALID_STATUS,
            "A closed ticket cannot receive a merge. Pick an open one.",
        )
    moved_messages = Message.objects.filter(ticket=source).update(ticket=target)
    TicketEvent.objects.filter(ticket=source).update(ticket=target)
    # The target's own customer is no follower of it (they get replies anyway).
    target.followers.add(*source.followers.exclude(customer_id=target.customer_id))
    target.tags.add(*source.tags.all())
    if source.customer_id != target.customer_id:
        # The source's customer follows the target, so they keep getting replies.
        identity = source.customer.identities.order_by("pk").first()
        if identity is not None:
            target.followers.add(identity)
    now = timezone.now()
    event_record(
        ticket=target,
        actor=actor,
        kind=EventKind.MERGED,
        data={"from_ticket": source.number, "messages": moved_messages},
    )
    source.merged_into = target
    source.status = Status.CLOSED
    source.closed_at = now
    source.updated_at = now
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    event_record(
        ticket=source, actor=actor, kind=EventKind.MERGED, data={"into_ticket": target.number}
    )
    _touch(target, [])
    publish(
        TicketMerged(actor=actor_of(actor), source_ticket_id=source.pk, target_ticket_id=target.pk)
    )
    sla_recompute(ticket=source)  # SLA engine: the merged ticket's clocks are cancelled
    sla_recompute(ticket=target)  # SLA engine: moved customer messages may need an answer
    return target


def ticket_resolve_merged(ticket: Ticket) -> Ticket:
    """Follow merge pointers to the ticket that lives on (bounded against cycles)."""
    seen = {ticket.pk}
    while ticket.merged_into_id and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.select_related("customer").get(pk=ticket.merged_into_id)
    return ticket
