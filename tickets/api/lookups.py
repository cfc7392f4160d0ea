"""The API's lookups by number or id: what the caller may not see is a 404 in the API's
error shape (its exception handler maps Http404), never a 403, so ids cannot be probed.
The selectors return None; this surface decides what that answers."""

from typing import Any

from django.http import Http404

from tickets.models import Ticket
from tickets.selectors import CustomerDetail, customer_detail_for_agent, ticket_for_agent


def ticket_get_for_agent(*, user: Any, number: int) -> Ticket:
    ticket = ticket_for_agent(user=user, number=number)
    if ticket is None:
        raise Http404(f"There is no ticket #{number}.")
    return ticket


def customer_get_for_agent(*, user: Any, customer_id: int) -> CustomerDetail:
    detail = customer_detail_for_agent(user=user, customer_id=customer_id)
    if detail is None:
        raise Http404(f"There is no customer {customer_id}.")
    return detail
