"""Emails to customers: the web acknowledgement (with the portal's magic link), fresh
sign-in links, and the satisfaction request HELPDESK_CSAT_DELAY after a ticket is solved.

Each is a notification in the outbox (channels_app.notifications): written in the
transaction that asks for it, sent by a worker after commit, retried, and deduplicated by
a unique key in the database. The renderers below write each mail when its turn comes.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from channels_app.models import DeliveryPurpose
from channels_app.notifications import Mail, NotificationSkipped, notification_enqueue
from tickets.domain_events import TicketChanged
from tickets.errors import TicketError
from tickets.models import Channel, ContactIdentity, IdentityKind, Status, Ticket
from tickets.portal.tokens import portal_link_lifetime, portal_link_url, rating_link_url
from tickets.services import reply_recipient, satisfaction_delay

logger = logging.getLogger(__name__)

RATING_ASK_WITHIN = timedelta(days=1)


def _enqueue(task: Any, **kwargs: Any) -> Callable[[], None]:
    def run() -> None:
        try:
            task.apply_async(kwargs=kwargs)
        except Exception:  # broker down: log loudly; the ticket itself is safe
            logger.exception("could not enqueue %s %s", task.name, kwargs)

    return run


def web_ticket_acknowledge(*, ticket_id: int, email: str) -> None:
    """Acknowledge a new web ticket to `email` (once per ticket), sent after commit."""
    notification_enqueue(
        purpose=DeliveryPurpose.ACKNOWLEDGEMENT,
        recipient=email,
        context={"ticket_id": ticket_id, "email": email},
        dedup_key=f"acknowledgement:{ticket_id}",
    )


def portal_link_enqueue(*, customer_id: int, email: str) -> None:
    notification_enqueue(
        purpose=DeliveryPurpose.SIGN_IN_LINK,
        recipient=email,
        context={"customer_id": customer_id, "email": email},
    )


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


def _mail(*, to: str, subject: str, template: str, context: dict[str, Any]) -> Mail:
    return Mail(to=to, subject=subject, body=render_to_string(template, context))


def acknowledgement_render(context: dict[str, Any]) -> Mail:
    email = str(context["email"])
    ticket = Ticket.objects.select_related("customer").filter(pk=context["ticket_id"]).first()
    if ticket is None:
        raise NotificationSkipped("The ticket no longer exists.")
    if ContactIdentity.objects.filter(
        kind=IdentityKind.EMAIL, value=email.strip().lower(), opted_out_at__isnull=False
    ).exists():
        raise NotificationSkipped("The address bounced or asked for no automatic mail.")
    link = portal_link_url(
        customer_id=ticket.customer_id, email=email, next_path=f"/portal/tickets/{ticket.number}/"
    )
    return _mail(
        to=email,
        subject=f"[#{ticket.number}] We received your request: {ticket.subject}",
        template="portal/email/acknowledgement.txt",
        context={
            "ticket": ticket,
            "link": link,
            "customer": ticket.customer,
            "link_lifetime": portal_link_lifetime(),
        },
    )


def sign_in_link_render(context: dict[str, Any]) -> Mail:
    # Made now, not when it was asked for: the link in the outbox row would be a
    # credential at rest, and its lifetime starts when it is sent.
    email = str(context["email"])
    link = portal_link_url(customer_id=int(context["customer_id"]), email=email)
    return _mail(
        to=email,
        subject="Your link to your support requests",
        template="portal/email/sign_in_link.txt",
        context={"link": link, "link_lifetime": portal_link_lifetime()},
    )


def satisfaction_request_render(context: dict[str, Any]) -> Mail:
    ticket = Ticket.objects.select_related("customer").filter(pk=context["ticket_id"]).first()
    if ticket is None or ticket.status != Status.SOLVED:
        raise NotificationSkipped("The ticket is no longer solved.")
    link = rating_link_url(ticket_id=ticket.pk, customer_id=ticket.customer_id)
    return _mail(
        to=str(context["email"]),
        subject=f"[#{ticket.number}] How did we do? {ticket.subject}",
        template="portal/email/satisfaction_request.txt",
        context={"ticket": ticket, "link": link, "customer": ticket.customer},
    )


# Due requests one tick claims; the rest wait for the next tick (oldest first).
CSAT_BATCH = 200


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
    return sum(satisfaction_request_send(ticket_id=ticket_id, now=now) for ticket_id in due)


@transaction.atomic
def satisfaction_request_send(*, ticket_id: int, now: datetime | None = None) -> bool:
    """Queue the rating request of a solved ticket whose request is due; False when there
    is none to send (not due, reopened, already claimed, no email address).

    The request is claimed by clearing its due time in one conditional UPDATE, and the
    outbox row is written in the same transaction under a key per solve: of two runs (a
    tick and a retried task) exactly one asks, and a failed send is the outbox's to retry.
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
    queued = notification_enqueue(
        purpose=DeliveryPurpose.SATISFACTION_REQUEST,
        recipient=recipient.value,
        context={"ticket_id": ticket.pk, "email": recipient.value},
        dedup_key=f"satisfaction:{ticket.pk}:{ticket.solved_at.isoformat()}",
    )
    return queued is not None
