"""The hot-path statements give exactly what the ORM would."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from helpdesk.lib import fastsql
from tickets.models import ContactIdentity, Customer, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_insert_reads_back_the_key_and_stores_what_save_would():
    customer = fastsql.insert(Customer(name="Ann"))
    event_ticket = Ticket.objects.create(subject="s", channel="email", customer=customer)

    event = fastsql.insert(TicketEvent(ticket=event_ticket, kind="created", data={"a": [1, "é"]}))

    assert customer.pk and event.pk and not event._state.adding
    stored = TicketEvent.objects.get(pk=event.pk)
    assert stored.data == {"a": [1, "é"]} and stored.ticket_id == event_ticket.pk
    assert Customer.objects.get(pk=customer.pk).updated_at is not None  # auto_now filled


def test_insert_with_a_given_key_keeps_it():
    customer = Customer.objects.create(name="Ann")
    ticket = Ticket(pk=987654, number=1_987_654, subject="s", channel="email", customer=customer)

    fastsql.insert(ticket)

    assert Ticket.objects.get(pk=987654).number == 1_987_654


def test_insert_refuses_an_unsaved_related_object_as_save_does():
    with pytest.raises(ValueError, match="unsaved related object"):
        fastsql.insert(ContactIdentity(customer=Customer(name="x"), kind="email", value="a@b.c"))


def test_insert_raises_the_constraint_error_and_leaves_nothing():
    customer = Customer.objects.create(name="Ann")
    ContactIdentity.objects.create(customer=customer, kind="email", value="a@b.c")

    with pytest.raises(IntegrityError), transaction.atomic():
        fastsql.insert(ContactIdentity(customer=customer, kind="email", value="a@b.c"))

    assert ContactIdentity.objects.count() == 1


def test_update_writes_only_the_named_fields():
    customer = Customer.objects.create(name="Ann")
    ticket = Ticket.objects.create(subject="before", channel="email", customer=customer)
    Ticket.objects.filter(pk=ticket.pk).update(subject="changed elsewhere")
    when = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
    ticket.status, ticket.last_inbound_at = "open", when

    fastsql.update(ticket, ["status", "last_inbound_at"])

    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.last_inbound_at) == ("open", when)
    assert stored.subject == "changed elsewhere"  # not among the fields: untouched


def test_select_one_gives_the_row_with_its_related_row_and_converted_values():
    customer = Customer.objects.create(name="Ann")
    ticket = Ticket.objects.create(subject="s", channel="email", customer=customer)
    TicketEvent.objects.create(ticket=ticket, kind="created", data={"channel": "email"})
    identity = ContactIdentity.objects.create(customer=customer, kind="email", value="a@b.c")

    found = fastsql.select_one(
        ContactIdentity, where="t.kind = %s AND t.value = %s", params=["email", "a@b.c"],
        related="customer",
    )  # fmt: skip
    event = fastsql.select_one(TicketEvent, where="t.ticket_id = %s", params=[ticket.pk])
    missing = fastsql.select_one(
        ContactIdentity, where="t.kind = %s AND t.value = %s", params=["email", "x@y.z"]
    )

    assert found == identity and found.customer.name == "Ann"
    assert ContactIdentity.customer.is_cached(found)  # no second query for the customer
    assert event is not None and event.data == {"channel": "email"}  # JSON decoded
    assert event.created_at.tzinfo is not None
    assert missing is None


def test_select_one_can_lock_the_row(django_assert_num_queries):
    customer = Customer.objects.create(name="Ann")
    ticket = Ticket.objects.create(subject="s", channel="email", customer=customer)

    with transaction.atomic(), django_assert_num_queries(1) as captured:
        locked = fastsql.select_one(Ticket, where="t.id = %s", params=[ticket.pk], lock=True)

    assert locked == ticket
    assert captured.captured_queries[0]["sql"].endswith("FOR UPDATE OF t")


def test_select_all_gives_every_matching_row_and_none_other():
    customer = Customer.objects.create(name="Ann")
    ticket = Ticket.objects.create(subject="s", channel="email", customer=customer)
    other = Ticket.objects.create(subject="o", channel="email", customer=customer)
    wanted = [TicketEvent.objects.create(ticket=ticket, kind=kind) for kind in ("created", "tag")]
    TicketEvent.objects.create(ticket=other, kind="created")

    with transaction.atomic():
        found = fastsql.select_all(
            TicketEvent, where="t.ticket_id = %s", params=[ticket.pk], lock=True
        )

    assert sorted(found, key=lambda e: e.pk) == wanted
    assert fastsql.select_all(TicketEvent, where="t.ticket_id = %s", params=[-1]) == []


def test_insert_many_inserts_every_object_in_order_with_its_key():
    customer = Customer.objects.create(name="Ann")
    ticket = Ticket.objects.create(subject="s", channel="email", customer=customer)
    events = [TicketEvent(ticket=ticket, kind=kind, data={"n": n}) for n, kind in
              enumerate(("created", "tag", "assigned"))]  # fmt: skip

    fastsql.insert_many(events)

    assert all(e.pk and not e._state.adding for e in events)
    stored = {e.pk: (e.kind, e.data) for e in TicketEvent.objects.filter(ticket=ticket)}
    assert stored == {e.pk: (e.kind, {"n": n}) for n, e in enumerate(events)}
    assert fastsql.insert_many([]) == []


def _customer_row(customer_id: int):
    return Customer.objects.filter(pk=customer_id).values_list("name", "pk")


def test_values_first_reads_each_argument_s_row_as_the_orm_would(django_assert_num_queries):
    ann, bob = Customer.objects.create(name="Ann"), Customer.objects.create(name="Bob")

    with django_assert_num_queries(3):
        rows = [fastsql.values_first(Customer, "test-customer", _customer_row, c) for c in
                (ann.pk, bob.pk, bob.pk + 1000)]  # fmt: skip

    assert rows == [("Ann", ann.pk), ("Bob", bob.pk), None]
    assert rows[:2] == [_customer_row(ann.pk).first(), _customer_row(bob.pk).first()]


def test_values_first_refuses_a_statement_that_repeats_its_argument(pg):
    def twice(customer_id: int):
        return Customer.objects.filter(pk=customer_id, id__gte=customer_id).values_list("pk")

    with pytest.raises(ValueError, match="must appear once"):
        fastsql.values_first(Customer, "test-twice", twice, 1)
