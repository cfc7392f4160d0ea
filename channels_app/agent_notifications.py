"""Mail to agents: a ticket assigned to them, a customer's reply on their ticket.

Sent through the outbox as notifications (DeliveryPurpose.AGENT_NOTIFICATION), written
when the row's turn comes."""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache

from channels_app.email.mailboxes import mailbox_for_ticket
from channels_app.models import DeliveryPurpose
from channels_app.notifications import Mail, NotificationSkipped, notification_enqueue
from tickets.domain_events import TicketChanged
from tickets.links import agent_ticket_url
from tickets.models import Ticket

logger = logging.getLogger(__name__)

NOTIFY_REPLY_EVERY = 600  # seconds


def agent_notify_assigned(event: TicketChanged) -> None:
    """Subscriber (in the transaction, so the mail is enqueued only if the assignment
    commits): tell an agent by email that a ticket was assigned to them, unless they
    took it themselves."""
    change = event.change("assignee")
    if change is None or change.after is None or change.after == event.actor.user_id:
        return
    agent_notify_on_commit(ticket_id=event.ticket_id, kind="assigned", user_id=change.after)


def _first_in_window(ticket_id: int, user_id: int) -> bool:
    try:
        return bool(
            cache.add(f"helpdesk:notify:{ticket_id}:{user_id}", 1, timeout=NOTIFY_REPLY_EVERY)
        )
    except Exception as exc:  # the cache is down: notify unthrottled, never fail the ingest
        logger.warning("notification throttle unavailable for ticket %s: %s", ticket_id, exc)
        return True


def agent_notify_on_commit(*, ticket_id: int, kind: str, user_id: int) -> None:
    """Enqueue a notification after commit. Customer-reply mails are throttled to one per
    ticket and agent per NOTIFY_REPLY_EVERY: a customer sending five mails in a row makes
    one notification, not five."""
    if kind == "customer_reply" and not _first_in_window(ticket_id, user_id):
        return

    email = (
        get_user_model()
        .objects.filter(pk=user_id, is_active=True)
        .values_list("email", flat=True)
        .first()
    )
    if not email:
        return
    notification_enqueue(
        purpose=DeliveryPurpose.AGENT_NOTIFICATION,
        recipient=email,
        context={"ticket_id": ticket_id, "kind": kind, "user_id": user_id},
    )


def agent_notification_render(context: dict[str, Any]) -> Mail:
    """The notification mail to an agent, written when the outbox sends it."""
    kind = str(context["kind"])
    ticket = Ticket.objects.select_related("customer").filter(pk=context["ticket_id"]).first()
    user = get_user_model().objects.filter(pk=context["user_id"], is_active=True).first()
    email = getattr(user, "email", "") if user is not None else ""
    if ticket is None or not email:
        raise NotificationSkipped("The ticket or the agent (or their address) is gone.")
    if kind == "assigned":
        subject = f"[#{ticket.number}] Assigned to you: {ticket.subject}"
        lead = f"Ticket #{ticket.number} from {ticket.customer} is now assigned to you."
    else:
        subject = f"[#{ticket.number}] {ticket.customer} replied: {ticket.subject}"
        lead = f"{ticket.customer} replied on ticket #{ticket.number}, which is assigned to you."
    mailbox = mailbox_for_ticket(ticket=ticket)
    return Mail(
        to=email,
        subject=subject,
        body=f"{lead}\n\nOpen it: {agent_ticket_url(ticket=ticket)}\n",
        from_email=mailbox.address if mailbox else "",
    )
