"""Emails to customers: the web acknowledgement (with the portal's magic link), fresh
sign-in links, and the satisfaction request HELPDESK_CSAT_DELAY after a ticket is solved.

Each is enqueued on commit and sent by a Celery task. `web_ticket_acknowledge` is the one
switch point for acknowledgements of web tickets: when the email channel's
acknowledgement hook lands, point this function at it and delete the local send.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from tickets.domain_events import TicketChanged
from tickets.errors import TicketError
from tickets.models import Channel, ContactIdentity, IdentityKind, Status, Ticket
from tickets.portal.tokens import portal_link_lifetime, portal_link_url, rating_link_url
from tickets.services import reply_recipient, satisfaction_delay

logger = logging.getLogger(__name__)

SENT_MARK_TTL = 14 * 24 * 3600
RATING_ASK_WITHIN = timedelta(days=1)


def _enqueue(task: Any, **kwargs: Any) -> Callable[[], None]:
    def run() -> None:
        try:
            task.apply_async(kwargs=kwargs)
        except Exception:  # broker down: log loudly; the ticket itself is safe
            logger.exception("could not enqueue %s %s", task.name, kwargs)

    return run


def web_ticket_acknowledge(*, ticket_id: int, email: str) -> None:
    """Acknowledge a new web ticket to `email`, after the current transaction commits."""
    from tickets.portal.tasks import web_acknowledgement_send_task

    transaction.on_commit(_enqueue(web_acknowledgement_send_task, ticket_id=ticket_id, email=email))


def portal_link_enqueue(*, customer_id: int, email: str) -> None:
    from tickets.portal.tasks import portal_link_send_task

    transaction.on_commit(_enqueue(portal_link_send_task, customer_id=customer_id, email=email))


def satisfaction_request_on_solve(event: TicketChanged) -> None:
    """Subscriber (in the transaction): with HELPDESK_CSAT_DELAY 0, ask for a rating once
    the solve commits (the periodic tick still sends it if this enqueue is lost); with a
    delay, satisfaction_requests_send_due sends it from the tick."""
    change = event.change("status")
    if change is None or change.after != Status.SOLVED or satisfaction_delay():
        return
    from tickets.portal.tasks import satisfaction_request_send_task

    transaction.on_commit(_enqueue(satisfaction_request_send_task, ticket_id=event.ticket_id))


def portal_link_for_ticket(ticket: Ticket) -> str:
    """A magic link that signs the ticket's customer in and opens the ticket; "" when the
    customer has no email address. Matches the email channel's
    HELPDESK_PORTAL_LINK_FUNCTION signature (function(ticket) -> str), so its
    acknowledgements can carry the link: set it to
    "tickets.portal.notifications.portal_link_for_ticket".
    """
    try:
        recipient = reply_recipient(ticket=ticket, channel=Channel.EMAIL)
    except TicketError:
        return ""
    return portal_link_url(
        customer_id=ticket.customer_id,
        email=recipient.value,
        next_path=f"/portal/tickets/{ticket.number}/",
    )


def _send(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    body = render_to_string(template, context)
    EmailMultiAlternatives(
        subject=subject.replace("\n", " ")[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    ).send(fail_silently=False)


def _once(key: str, send: Callable[[], None]) -> bool:
    # Tasks may run twice (acks_late); the mark makes the second run a no-op. It is set
    # after the send, so a send that failed is retried rather than skipped.
    if cache.get(key):
        return False
    send()
    cache.set(key, 1, timeout=SENT_MARK_TTL)
    return True


def web_acknowledgement_send(*, ticket_id: int, email: str) -> bool:
    ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
    if ticket is None:
        return False
    if ContactIdentity.objects.filter(
        kind=IdentityKind.EMAIL, value=email.strip().lower(), opted_out_at__isnull=False
    ).exists():
        return False  # the address bounced or asked for no automatic mail
    link = portal_link_url(
        customer_id=ticket.customer_id, email=email, next_path=f"/portal/tickets/{ticket.number}/"
    )
    return _once(
        f"helpdesk:mail:web-ack:{ticket.pk}",
        lambda: _send(
            to=email,
            subject=f"[#{ticket.number}] We received your request: {ticket.subject}",
            template="portal/email/acknowledgement.txt",
            context={
                "ticket": ticket,
                "link": link,
                "customer": ticket.customer,
                "link_lifetime": portal_link_lifetime(),
            },
        ),
    )


def portal_link_send(*, customer_id: int, email: str) -> bool:
    link = portal_link_url(customer_id=customer_id, email=email)
    _send(
        to=email,
        subject="Your link to your support requests",
        template="portal/email/sign_in_link.txt",
        context={"link": link, "link_lifetime": portal_link_lifetime()},
    )
    return True


# Due requests one tick claims; the rest wait for the next tick (oldest first).
CSAT_BATCH = 200
# A request whose send failed (SMTP down) is due again after this.
CSAT_RETRY = timedelta(minutes=5)


def satisfaction_requests_send_due(*, now: datetime | None = None) -> int:
    """Send every satisfaction request whose due time has come; returns how many went.

    Reads only tickets with a waiting request (partial index ticket_csat_due), so its cost
    follows the requests due, not the solved tickets.
    """
    now = now or timezone.now()
    due = list(
        Ticket.objects.filter(csat_due_at__lte=now, status=Status.SOLVED)
        .order_by("csat_due_at", "id")
        .values_list("pk", flat=True)[:CSAT_BATCH]
    )
    # Requests of tickets that left solved without the column being cleared (an import,
    # a raw update) would otherwise be read by every tick.
    Ticket.objects.filter(csat_due_at__lte=now).exclude(status=Status.SOLVED).update(
        csat_due_at=None
    )
    sent = 0
    for ticket_id in due:
        try:
            sent += satisfaction_request_send(ticket_id=ticket_id, now=now)
        except OSError:
            logger.warning("satisfaction request for ticket %s failed; retrying", ticket_id)
    return sent


def satisfaction_request_send(*, ticket_id: int, now: datetime | None = None) -> bool:
    """Mail the rating request of a solved ticket whose request is due; False when there is
    none to send (not due, reopened, already claimed by another run, no email address).

    The request is claimed by clearing its due time in one conditional UPDATE: of two
    runs (a tick and a retried task) exactly one sends. A failed send puts it back; a
    worker killed between the claim and the send loses that one request, since asking a
    customer twice is worse than not asking.
    """
    now = now or timezone.now()
    claimed = Ticket.objects.filter(
        pk=ticket_id, status=Status.SOLVED, csat_due_at__lte=now
    ).update(csat_due_at=None)
    if claimed != 1:
        return False  # not due, no longer solved, or another run got there first
    ticket = Ticket.objects.select_related("customer").get(pk=ticket_id)
    if ticket.solved_at is None:
        return False
    if now - ticket.solved_at > satisfaction_delay() + RATING_ASK_WITHIN:
        # A request that waited long past its time (workers down for days, a backdated
        # import) would ask about something the customer has long forgotten.
        return False
    try:
        recipient = reply_recipient(ticket=ticket, channel=Channel.EMAIL)
    except TicketError:
        logger.info("ticket %s has no email address to ask for a rating", ticket_id)
        return False
    if recipient.opted_out_at is not None:
        return False
    link = rating_link_url(ticket_id=ticket.pk, customer_id=ticket.customer_id)
    try:
        return _once(
            f"helpdesk:mail:csat:{ticket.pk}:{ticket.solved_at.timestamp()}",
            lambda: _send(
                to=recipient.value,
                subject=f"[#{ticket.number}] How did we do? {ticket.subject}",
                template="portal/email/satisfaction_request.txt",
                context={"ticket": ticket, "link": link, "customer": ticket.customer},
            ),
        )
    except OSError:
        # Due again shortly, unless the ticket was reopened meanwhile.
        Ticket.objects.filter(pk=ticket_id, status=Status.SOLVED, csat_due_at=None).update(
            csat_due_at=now + CSAT_RETRY
        )
        raise
