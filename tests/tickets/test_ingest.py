import pytest

from channels_app.ingest import inbound_message_ingest
from tickets.models import ContactIdentity, Customer, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def test_it_stores_one_message_for_the_same_external_id_twice(make_inbound):
    first = inbound_message_ingest(message=make_inbound(external_id="<a@x>"))
    second = inbound_message_ingest(message=make_inbound(external_id="<a@x>"))

    assert not first.duplicate and first.created_ticket
    assert second.duplicate and second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_it_resolves_an_email_in_another_case_to_the_same_customer(make_inbound):
    a = inbound_message_ingest(message=make_inbound(external_id="1", sender="Dana@Example.COM"))
    b = inbound_message_ingest(message=make_inbound(external_id="2", sender="dana@example.com "))

    assert a.ticket.customer_id == b.ticket.customer_id
    assert Customer.objects.count() == 1
    assert ContactIdentity.objects.get().value == "dana@example.com"


def test_it_reopens_a_solved_ticket_when_the_customer_replies(make_inbound):
    first = inbound_message_ingest(message=make_inbound(external_id="1"))
    Ticket.objects.filter(pk=first.ticket.pk).update(status=Status.SOLVED)

    reply = inbound_message_ingest(
        message=make_inbound(external_id="2", ticket_reference=str(first.ticket.number))
    )

    assert reply.ticket.pk == first.ticket.pk
    assert Ticket.objects.get(pk=first.ticket.pk).status == Status.OPEN
