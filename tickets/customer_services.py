"""Writes to a customer's record beyond its name and notes (tickets.services.customer_update):
a new customer with their contact details, their organization, and their email and phone
identities as a whole set."""

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from helpdesk.roles import is_agent
from tickets.errors import TicketError, TicketErrorCode
from tickets.identity import normalize_identity
from tickets.models import ContactIdentity, Customer, IdentityKind, Message, Organization
from tickets.services import identity_add


def _require_agent(user: Any, *, what: str) -> None:
    if not is_agent(user):
        raise TicketError(TicketErrorCode.NOT_AN_AGENT, f"Only agents can {what}.")


def _taken(kind: str, values: Sequence[str], customer: Customer | None) -> None:
    others = ContactIdentity.objects.filter(kind=kind, value__in=values)
    if customer is not None:
        others = others.exclude(customer=customer)
    taken = sorted(others.values_list("value", flat=True))
    if taken:
        raise TicketError(
            TicketErrorCode.IDENTITY_TAKEN,
            f"{', '.join(taken)} already belongs to another customer. Merge the two "
            "customers to join their histories.",
        )


@transaction.atomic
def customer_create(
    *,
    actor: Any,
    name: str,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    organization: Organization | None = None,
) -> Customer:
    """A customer with these contact details. Precondition: at least one email or phone.
    Refused, with nothing written, when one of them already belongs to a customer (also
    when another request takes it at the same moment: the unique constraint decides)."""
    _require_agent(actor, what="add customers")
    contacts = [(IdentityKind.EMAIL, v) for v in emails] + [(IdentityKind.PHONE, v) for v in phones]
    if not contacts:
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY, "Give the customer an email address or a phone."
        )
    normalized = list(dict.fromkeys((kind, normalize_identity(kind, v)) for kind, v in contacts))
    for kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
        _taken(kind, [v for k, v in normalized if k == kind], None)
    first_value = normalized[0][1]
    customer = Customer.objects.create(
        name=name.strip()[:200] or first_value.split("@", 1)[0][:200], organization=organization
    )
    try:
        with transaction.atomic():
            ContactIdentity.objects.bulk_create(
                ContactIdentity(customer=customer, kind=kind, value=value)
                for kind, value in normalized
            )
    except IntegrityError as exc:
        raise TicketError(
            TicketErrorCode.IDENTITY_TAKEN,
            "One of these addresses was just given to another customer. Look that customer "
            "up instead.",
        ) from exc
    return customer


def _identities_set(*, customer: Customer, kind: str, values: Sequence[str], actor: Any) -> None:
    wanted = list(dict.fromkeys(normalize_identity(kind, v) for v in values))
    _taken(kind, wanted, customer)
    current = {i.value: i for i in customer.identities.filter(kind=kind)}
    dropped = [current[v] for v in current if v not in wanted]
    # An identity that wrote messages keeps them attributed: removing it would leave the
    # history with messages from nobody.
    used = sorted(
        Message.objects.filter(author_identity__in=dropped)
        .values_list("author_identity__value", flat=True)
        .distinct()
    )
    if used:
        raise TicketError(
            TicketErrorCode.IDENTITY_IN_USE,
            f"{', '.join(used)} wrote messages in this customer's history, so it stays. "
            "Keep it in the list, or merge customers to join two records.",
        )
    ContactIdentity.objects.filter(pk__in=[i.pk for i in dropped]).delete()
    for value in wanted:
        if value not in current:
            identity_add(customer=customer, kind=kind, value=value, actor=actor)


@transaction.atomic
def customer_details_change(
    *,
    customer: Customer,
    actor: Any,
    changes: dict[str, Any],
) -> Customer:
    """Apply any of `name`, `organization` (an Organization or None), `emails`, `phones`
    (each the whole set of that kind), all or nothing."""
    _require_agent(actor, what="edit customers")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id is not None:
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            f"This customer was merged into customer {customer.merged_into_id}. Edit that one.",
        )
    if "emails" in changes:
        _identities_set(
            customer=customer, kind=IdentityKind.EMAIL, values=changes["emails"], actor=actor
        )
    if "phones" in changes:
        _identities_set(
            customer=customer, kind=IdentityKind.PHONE, values=changes["phones"], actor=actor
        )
    if not customer.identities.exists():
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY,
            "A customer needs at least one email address or phone, or nobody can reach them.",
        )
    fields = []
    if "name" in changes:
        customer.name = changes["name"].strip()[:200]
        fields.append("name")
    if "organization" in changes:
        customer.organization = changes["organization"]
        fields.append("organization")
    customer.save(update_fields=[*fields, "updated_at"])
    return customer


@transaction.atomic
def customer_identity_add(
    *, customer: Customer, kind: str, value: str, actor: Any
) -> ContactIdentity:
    """One more email or phone for a live customer; IDENTITY_TAKEN when it is another
    customer's (merge the two instead). Adding one the customer has is a no-op."""
    _require_agent(actor, what="add contact details")
    customer = _live(customer)
    identity = identity_add(customer=customer, kind=kind, value=value, actor=actor)
    customer.save(update_fields=["updated_at"])
    return identity


@transaction.atomic
def customer_identity_remove(*, identity: ContactIdentity, actor: Any) -> None:
    """Remove one of a customer's addresses: refused while it wrote messages (the history
    keeps its author) or when it is the customer's last one (nobody could reach them)."""
    _require_agent(actor, what="remove contact details")
    customer = _live(identity.customer)
    if Message.objects.filter(author_identity=identity).exists():
        raise TicketError(
            TicketErrorCode.IDENTITY_IN_USE,
            f"{identity.value} wrote messages in this customer's history, so it stays. "
            "Merge customers to join two records.",
        )
    if not customer.identities.exclude(pk=identity.pk).exists():
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY,
            "This is the customer's last address. Add another before removing it.",
        )
    identity.delete()
    customer.save(update_fields=["updated_at"])


def _live(customer: Customer) -> Customer:
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.merged_into_id is not None:
        raise TicketError(
            TicketErrorCode.MERGE_MERGED,
            f"This customer was merged into customer {locked.merged_into_id}. Edit that one.",
        )
    return locked


def _organization_name(name: str, *, exclude: int | None = None) -> str:
    name = name.strip()[:200]
    if not name:
        raise TicketError(TicketErrorCode.INVALID_ORGANIZATION, "Give the organization a name.")
    same = Organization.objects.filter(name__iexact=name)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise TicketError(
            TicketErrorCode.ORGANIZATION_TAKEN,
            f"There is already an organization “{name}”. Use that one.",
        )
    return name


def _domain(domain: str) -> str:
    domain = domain.strip().lower().removeprefix("@")
    if domain and ("." not in domain or any(c.isspace() or c in "@/" for c in domain)):
        raise TicketError(
            TicketErrorCode.INVALID_ORGANIZATION,
            f"“{domain}” is not an email domain. Give one like example.com.",
        )
    return domain


@transaction.atomic
def organization_create(
    *, actor: Any, name: str, domain: str = "", notes: str = ""
) -> Organization:
    _require_agent(actor, what="add organizations")
    return Organization.objects.create(
        name=_organization_name(name), domain=_domain(domain), notes=notes
    )


@transaction.atomic
def organization_update(
    *, organization: Organization, actor: Any, changes: dict[str, str]
) -> Organization:
    """Any of `name`, `domain`, `notes`."""
    _require_agent(actor, what="edit organizations")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if "name" in changes:
        organization.name = _organization_name(changes["name"], exclude=organization.pk)
    if "domain" in changes:
        organization.domain = _domain(changes["domain"])
    if "notes" in changes:
        organization.notes = changes["notes"]
    organization.save(update_fields=[f for f in ("name", "domain", "notes") if f in changes])
    return organization
