"""Absolute links to tickets, for mails and other messages read outside the site."""

from django.urls import reverse

from helpdesk.lib.urls import absolute_url
from tickets.models import Ticket


def agent_ticket_url(*, ticket: Ticket) -> str:
    """The ticket's page in the agent workspace: /agent/tickets/<number>/ on PUBLIC_BASE_URL.

    Precondition: the ticket is saved (ticket_create numbers it in the same transaction).
    """
    if ticket.number is None:
        raise ValueError("The ticket has no number yet: link to it once it is saved.")
    return absolute_url(reverse("tickets:ticket", kwargs={"number": ticket.number}))
