"""Writes customers make without an account: web requests, portal replies, status
changes, sign-in link requests, satisfaction ratings.

Web requests and replies enter the history the way every channel does: the payload is
stored as a RawInbound first, then parsed by the `web` adapter and ingested.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_app.ingest import raw_inbound_process, raw_inbound_store
from channels_app.web import adapter as web_adapter
from channels_app.web.adapter import STAGING_PREFIX
from knowledge_base.models import SupportCategory
from tickets.domain_events import Actor, ActorKind, SatisfactionRated, publish
from tickets.errors import TicketError
from tickets.identity import normalize_identity
from tickets.models import (
    ACTIVE_STATUSES,
    Channel,
    ContactIdentity,
    Customer,
    IdentityKind,
    SatisfactionRating,
    Status,
    Ticket,
)
from tickets.portal.errors import PortalError, PortalErrorCode
from tickets.portal.notifications import portal_link_enqueue, web_ticket_acknowledge
from tickets.services import ticket_set_status
from tickets.uploads import CheckedFile

logger = logging.getLogger(__name__)

MAX_COMMENT = 5000


@dataclass(frozen=True)
class WebRequest:
    name: str
    email: str
    subject: str
    description: str
    submission_id: str  # from the form: a resubmitted form lands on the same ticket
    phone: str = ""
    category: SupportCategory | None = None
    files: tuple[CheckedFile, ...] = ()
    client_ip: str = ""


@dataclass(frozen=True)
class WebSubmitResult:
    ticket: Ticket | None  # None when the payload was quarantined for an admin to see
    raw_id: int
    created_ticket: bool


def _stage(files: Sequence[CheckedFile]) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for file in files:
        path = default_storage.save(
            f"{STAGING_PREFIX}{timezone.now():%Y/%m}/{uuid.uuid4().hex}", ContentFile(file.content)
        )
        entries.append(
            {
                "path": path,
                "filename": file.filename,
                "content_type": file.content_type,
                "size": len(file.content),
                "sha256": hashlib.sha256(file.content).hexdigest(),
            }
        )
    return entries


def _store_and_ingest(
    *, payload: dict[str, object], files: Sequence[CheckedFile], source: str, meta: dict[str, str]
) -> WebSubmitResult:
    staged = _stage(files)
    payload = {**payload, "attachments": staged, "received_at": timezone.now().isoformat()}
    raw = raw_inbound_store(
        channel=Channel.WEB,
        adapter=web_adapter.NAME,
        source=source,
        payload=json.dumps(payload).encode(),
        content_type="application/json",
        meta=meta,
    )
    result = raw_inbound_process(raw_id=raw.pk)
    if result is None:
        # Quarantined: the staged files stay, so an admin can reprocess the payload.
        return WebSubmitResult(ticket=None, raw_id=raw.pk, created_ticket=False)
    # Ingested: the attachments now live on the message, so the staged copies go.
    for entry in staged:
        default_storage.delete(str(entry["path"]))
    return WebSubmitResult(
        ticket=result.ticket,
        raw_id=raw.pk,
        created_ticket=result.created_ticket and not result.duplicate,
    )


def web_request_submit(*, request: WebRequest) -> WebSubmitResult:
    """A new request from the web form. Preconditions: the form validated the fields and
    files (tickets.portal.forms, tickets.uploads). Acknowledges a new ticket by email
    on commit."""
    category = request.category
    result = _store_and_ingest(
        payload={
            "submission_id": request.submission_id,
            "name": request.name,
            "email": request.email,
            "phone": request.phone,
            "subject": request.subject,
            "description": request.description,
            "team_id": category.team_id if category else None,
            "priority": category.priority if category else None,
            "category": category.name if category else "",
        },
        files=request.files,
        source="web:form",
        meta={"ip": request.client_ip},
    )
    if result.ticket is not None and request.phone:
        _phone_add(customer_id=result.ticket.customer_id, phone=request.phone)
    if result.ticket is not None and result.created_ticket:
        web_ticket_acknowledge(ticket_id=result.ticket.pk, email=request.email)
    return result


def _phone_add(*, customer_id: int, phone: str) -> None:
    # The phone the customer typed joins their contact details, unverified. A number that
    # already belongs to someone else stays theirs: merging is an agent's decision.
    try:
        value = normalize_identity(IdentityKind.PHONE, phone)
    except TicketError:
        return
    try:
        with transaction.atomic():
            ContactIdentity.objects.get_or_create(
                kind=IdentityKind.PHONE,
                value=value,
                defaults={"customer_id": customer_id, "verified": False},
            )
    except IntegrityError:
        logger.info("phone %s for customer %s raced another writer", value, customer_id)


def portal_reply_submit(
    *,
    customer: Customer,
    email: str,
    ticket: Ticket,
    text: str,
    submission_id: str,
    files: Sequence[CheckedFile] = (),
    client_ip: str = "",
) -> WebSubmitResult:
    """The customer's reply from the portal: threaded by the ticket's secret reply token.
    Precondition: `ticket` belongs to `customer` (tickets.portal.selectors.portal_ticket_get)."""
    return _store_and_ingest(
        payload={
            "submission_id": submission_id,
            "name": customer.name,
            "email": email,
            "subject": ticket.subject,
            "description": text,
            "ticket_reference": ticket.reply_token,
        },
        files=files,
        source="web:portal",
        meta={"ip": client_ip},
    )


CUSTOMER_STATUS_CHANGES = {
    Status.SOLVED: ACTIVE_STATUSES,
    Status.OPEN: {Status.SOLVED},
}


def portal_ticket_set_status(*, ticket: Ticket, status: str) -> Ticket:
    """The customer marks their ticket solved, or reopens a solved one."""
    allowed_from = CUSTOMER_STATUS_CHANGES.get(Status(status)) if status in Status.values else None
    if allowed_from is None or ticket.status not in allowed_from:
        raise PortalError(
            PortalErrorCode.NOT_ALLOWED,
            "This request cannot be changed that way now. Reply to it instead and we will "
            "pick it up.",
        )
    return ticket_set_status(ticket=ticket, status=status, actor=None)


def portal_link_request(*, email: str) -> bool:
    """Email a fresh sign-in link if `email` is a customer's. The caller answers the same
    either way, so the response never tells whether an address is known."""
    try:
        value = normalize_identity(IdentityKind.EMAIL, email)
    except TicketError:
        return False
    identity = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=value).first()
    if identity is None:
        return False
    portal_link_enqueue(customer_id=identity.customer_id, email=value)
    return True


def _change_window() -> timedelta:
    return timedelta(seconds=settings.HELPDESK_CSAT_CHANGE_WINDOW)


@transaction.atomic
def satisfaction_rating_submit(
    *, ticket: Ticket, customer_id: int, score: int, comment: str = ""
) -> SatisfactionRating:
    """Rate a solved ticket, or change the rating within the change window."""
    if ticket.status not in (Status.SOLVED, Status.CLOSED):
        raise PortalError(
            PortalErrorCode.NOT_SOLVED,
            "You can rate a request once it is solved. Reply to it if something is missing.",
        )
    if not 1 <= score <= 5:
        raise PortalError(PortalErrorCode.INVALID_SCORE, "Choose a rating from 1 to 5.")
    comment = comment.strip()[:MAX_COMMENT]
    now = timezone.now()
    existing = SatisfactionRating.objects.select_for_update().filter(ticket=ticket).first()
    if existing is None:
        try:
            with transaction.atomic():
                rating = SatisfactionRating.objects.create(
                    ticket=ticket,
                    customer_id=customer_id,
                    score=score,
                    comment=comment,
                    created_at=now,
                    updated_at=now,
                )
            _rated(rating)
            return rating
        except IntegrityError:
            existing = SatisfactionRating.objects.select_for_update().get(ticket=ticket)
    if now - existing.created_at > _change_window():
        raise PortalError(
            PortalErrorCode.RATING_CLOSED,
            "Ratings can be changed for 7 days after they are given, and this one is older. "
            "Reply to the request if you want to tell us more.",
        )
    existing.score, existing.comment, existing.updated_at = score, comment, now
    existing.save(update_fields=["score", "comment", "updated_at"])
    _rated(existing)
    return existing


def _rated(rating: SatisfactionRating) -> None:
    publish(
        SatisfactionRated(
            actor=Actor(kind=ActorKind.CUSTOMER),
            ticket_id=rating.ticket_id,
            rating_id=rating.pk,
            score=rating.score,
            at=rating.updated_at,
        )
    )


def rating_changeable(rating: SatisfactionRating | None) -> bool:
    return rating is None or timezone.now() - rating.created_at <= _change_window()
