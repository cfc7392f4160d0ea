"""Customers and the identities they reach us by."""

from typing import Any

from django.db import IntegrityError, transaction

from helpdesk.lib import fastsql
from tickets.errors import TicketError, TicketErrorCode
from tickets.identity import normalize_identity
from tickets.models import (
    ContactIdentity,
    Customer,
    IdentityKind,
)
from tickets.services.base import _require_agent


def _name_from(kind: str, value: str, display_name: str) -> str:
    if display_name.strip():
        return display_name.strip()[:200]
    if kind == IdentityKind.EMAIL:
        return value.split("@", 1)[0]
    return value[:200]


def identity_resolve(*, kind: str, value: str, display_name: str = "") -> ContactIdentity:
    """The identity for (kind, value), creating it and a new customer when unknown.

    Safe under concurrency: two first messages from one new address at once end up on one
    customer (the loser of the unique-constraint race reads the winner's row).
    """
    normalized = normalize_identity(kind, value)
    # Every inbound message asks this: the statements are built once (helpdesk.lib.fastsql:
    # 0.2-0.5 ms instead of the ORM's 0.8). (kind, value) is unique: no ORDER BY needed.
    existing = fastsql.select_one(
        ContactIdentity, where="t.kind = %s AND t.value = %s", params=[kind, normalized],
        related="customer",
    )  # fmt: skip
    if existing is not None:
        if display_name and not existing.display_name:
            existing.display_name = display_name[:200]
            existing.save(update_fields=["display_name"])
        return existing
    try:
        with transaction.atomic():
            customer = fastsql.insert(Customer(name=_name_from(kind, normalized, display_name)))
            return fastsql.insert(
                ContactIdentity(
                    customer=customer, kind=kind, value=normalized, display_name=display_name[:200]
                )
            )
    except IntegrityError:
        return ContactIdentity.objects.select_related("customer").get(kind=kind, value=normalized)


def identity_add(
    *, customer: Customer, kind: str, value: str, actor: Any, verified: bool = False
) -> ContactIdentity:
    _require_agent(actor, what="add contact details")
    normalized = normalize_identity(kind, value)
    existing = ContactIdentity.objects.filter(kind=kind, value=normalized).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise TicketError(
            TicketErrorCode.IDENTITY_TAKEN,
            f"{normalized} already belongs to another customer. Merge the two customers "
            "to join their histories.",
        )
    return ContactIdentity.objects.create(
        customer=customer, kind=kind, value=normalized, verified=verified
    )


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: Any, name: str | None = None, notes: str | None = None
) -> Customer:
    _require_agent(actor, what="edit customers")
    fields = []
    if name is not None:
        customer.name = name.strip()[:200]
        fields.append("name")
    if notes is not None:
        customer.notes = notes
        fields.append("notes")
    if fields:
        customer.save(update_fields=[*fields, "updated_at"])
    return customer
