"""The portal's reads find nothing outside the signed-in customer's requests (the views
answer that with a 404) and list requests as frozen rows, not annotated tickets."""

from typing import Any

import pytest
from django.core.files.base import ContentFile

from tests.factories import CustomerFactory, TicketFactory
from tickets.models import Attachment, Channel, Direction, Message, Status
from tickets.portal import selectors
from tickets.portal.selectors import PortalTicket

pytestmark = pytest.mark.django_db


def _message(ticket: Any, text: str, *, internal: bool = False) -> Message:
    return Message.objects.create(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        body_text=text,
        is_internal=internal,
    )


def _attachment(message: Message) -> Attachment:
    return Attachment.objects.create(
        message=message,
        file=ContentFile(b"receipt", name="receipt.txt"),
        filename="receipt.txt",
        content_type="text/plain",
        size=7,
        sha256="0" * 64,
    )


def test_it_finds_no_ticket_of_another_customer() -> None:
    mine, theirs = CustomerFactory(), CustomerFactory()
    ticket = TicketFactory(customer=theirs)

    assert selectors.portal_ticket_get(customer_id=mine.pk, number=ticket.number) is None
    assert selectors.portal_ticket_get(customer_id=mine.pk, number=999_999_999) is None
    found = selectors.portal_ticket_get(customer_id=theirs.pk, number=ticket.number)
    assert found is not None and found.pk == ticket.pk


def test_it_follows_a_merge_to_the_ticket_that_lives_on() -> None:
    customer = CustomerFactory()
    survivor = TicketFactory(customer=customer)
    merged = TicketFactory(customer=customer, merged_into=survivor, status=Status.CLOSED)

    found = selectors.portal_ticket_get(customer_id=customer.pk, number=merged.number)

    assert found is not None and found.pk == survivor.pk


def test_it_gives_files_of_public_messages_of_the_customer_only() -> None:
    customer, stranger = CustomerFactory(), CustomerFactory()
    ticket = TicketFactory(customer=customer)
    public = _attachment(_message(ticket, "Here is the receipt"))
    internal = _attachment(_message(ticket, "Agents only", internal=True))

    get = selectors.portal_attachment_get
    assert get(customer_id=customer.pk, attachment_id=public.pk) == public
    assert get(customer_id=customer.pk, attachment_id=internal.pk) is None
    assert get(customer_id=stranger.pk, attachment_id=public.pk) is None


def test_it_finds_the_rated_ticket_only_for_its_customer() -> None:
    customer, stranger = CustomerFactory(), CustomerFactory()
    ticket = TicketFactory(customer=customer)

    assert selectors.rating_ticket_get(ticket_id=ticket.pk, customer_id=customer.pk) == ticket
    assert selectors.rating_ticket_get(ticket_id=ticket.pk, customer_id=stranger.pk) is None


def test_it_lists_requests_with_the_last_public_message_on_one_line() -> None:
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer)
    _message(ticket, "Where is\n\n  my   order?")
    _message(ticket, "An internal note the customer never sees", internal=True)

    page = selectors.portal_ticket_list(customer_id=customer.pk)

    assert page.items == [PortalTicket(ticket=ticket, preview="Where is my order?")]
