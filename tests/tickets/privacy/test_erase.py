"""customer_erase: no trace of the person in any table or file; reports keep counting."""

from typing import Any

import pytest
from django.contrib.sessions.models import Session

from channels_app.models import Delivery, DeliveryStatus, RawInbound
from helpdesk.audit.models import AuditEntry
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory
from tests.privacy_world import (
    Person,
    database_traces,
    file_traces,
    pg_dump_traces,
    rating_of,
    raw_of,
)
from tickets.domain_events import CustomerErased, events_captured
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import Attachment, Customer, Message, Status, Ticket
from tickets.portal.models import PortalSignIn
from tickets.portal.selectors import customer_resolve
from tickets.privacy import customer_erase
from tickets.services import customer_merge

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_it_leaves_no_trace_of_the_person_in_any_table_or_file(
    person: Person, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a person who wrote on every channel (their marker is in the database and files)
    assert database_traces(person.needles)
    assert file_traces([person.marker])
    # When they are erased
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(person.customer, actor=admin_user)
    # Then no table, no session and no stored file holds their name, address, phone,
    # chat visitor id or anything they wrote
    assert database_traces(person.needles) == []
    assert file_traces(person.needles) == []


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_the_committed_database_holds_no_trace_either(
    person: Person, admin_user: Any
) -> None:
    # Committed for real: the on-commit work (file deletion, the outbox) runs as it would.
    assert pg_dump_traces([person.marker])
    customer_erase(person.customer, actor=admin_user)
    assert pg_dump_traces(person.needles) == []
    assert file_traces(person.needles) == []


def test_it_keeps_the_other_customers_data_whole(
    person: Person, bystander: Person, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = database_traces(bystander.needles)
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(person.customer, actor=admin_user)
    assert database_traces(bystander.needles) == before
    assert file_traces([bystander.marker])
    other = bystander.tickets["email"]
    assert all(raw.payload for raw in raw_of(other))
    assert Attachment.objects.filter(message__ticket=other).exists()
    assert Delivery.objects.filter(recipient=bystander.email).exists()


def test_it_keeps_anonymous_skeletons_so_reports_still_count(
    person: Person, admin_user: Any
) -> None:
    tickets = Ticket.objects.filter(customer=person.customer)
    by_status = sorted(tickets.values_list("channel", "status", "created_at"))
    messages = Message.objects.filter(ticket__customer=person.customer).count()
    customer_erase(person.customer, actor=admin_user)
    customer = Customer.objects.get(pk=person.customer.pk)
    assert str(customer) == f"Erased customer #{customer.pk}"
    assert customer.erased_at is not None and customer.identities.count() == 0
    assert sorted(tickets.values_list("channel", "status", "created_at")) == by_status
    assert Message.objects.filter(ticket__customer=customer).count() == messages
    assert rating_of(person.tickets["web"]).score == 2
    assert rating_of(person.tickets["web"]).comment == ""
    assert set(tickets.values_list("subject", flat=True)) == {"(erased)"}


def test_it_records_the_erasure_in_the_audit_trail_with_ids_only(
    person: Person, admin_user: Any
) -> None:
    with events_captured() as events:
        customer_erase(person.customer, actor=admin_user)
    entry = AuditEntry.objects.get(action="customer.erased")
    assert (entry.target_type, entry.target_id) == ("tickets.customer", str(person.customer.pk))
    assert entry.actor_id == admin_user.pk
    assert entry.data["customer_ids"] == [person.customer.pk]
    erased = [e for e in events if isinstance(e, CustomerErased)]
    assert len(erased) == 1 and erased[0].customer_id == person.customer.pk


def test_it_ends_portal_sessions_and_refuses_the_persons_links(
    person: Person, admin_user: Any
) -> None:
    customer_erase(person.customer, actor=admin_user)
    assert not PortalSignIn.objects.filter(customer=person.customer).exists()
    assert not Session.objects.filter(session_key__in=person.session_keys).exists()
    # A sign-in link mailed before the erasure opens nothing.
    assert customer_resolve(customer_id=person.customer.pk) is None


def test_it_stops_a_reply_still_waiting_in_the_outbox(person: Person, admin_user: Any) -> None:
    queued = Delivery.objects.get(message__ticket=person.tickets["email"], recipient=person.email)
    assert queued.status == DeliveryStatus.QUEUED
    customer_erase(person.customer, actor=admin_user)
    queued.refresh_from_db()
    assert queued.status == DeliveryStatus.SKIPPED
    assert queued.recipient == "" and "erased" in queued.last_error
    from channels_app.delivery import delivery_send

    assert delivery_send(delivery_id=queued.pk).status == DeliveryStatus.SKIPPED


def test_it_purges_the_raw_payloads_but_keeps_their_record(person: Person, admin_user: Any) -> None:
    raws = [r for t in person.tickets.values() for r in raw_of(t)]
    assert raws and all(r.payload for r in raws)
    customer_erase(person.customer, actor=admin_user)
    for raw in RawInbound.objects.filter(pk__in=[r.pk for r in raws]):
        assert bytes(raw.payload) == b"" and raw.meta == {} and raw.purged_at is not None
    assert not RawInbound.objects.filter(purged_at__isnull=True, payload__contains=b"zq7")


def test_it_refuses_to_erase_twice_and_says_when_it_was_done(
    person: Person, admin_user: Any
) -> None:
    customer_erase(person.customer, actor=admin_user)
    with pytest.raises(TicketError) as exc:
        customer_erase(person.customer, actor=admin_user)
    assert exc.value.code == TicketErrorCode.ALREADY_ERASED
    assert "already erased" in exc.value.message
    assert AuditEntry.objects.filter(action="customer.erased").count() == 1


def test_it_refuses_an_agent_without_the_delete_permission(person: Person) -> None:
    with pytest.raises(TicketError) as exc:
        customer_erase(person.customer, actor=AgentFactory())
    assert exc.value.code == TicketErrorCode.NOT_ALLOWED
    assert Customer.objects.get(pk=person.customer.pk).erased_at is None


def test_it_erases_records_merged_into_the_customer_and_refuses_the_merged_one(
    admin_user: Any, agent: Any
) -> None:
    target = CustomerFactory(name="Target Person")
    source = CustomerFactory(name="Mergedname Person")
    IdentityFactory(customer=source, value="mergedname@example.org")
    customer_merge(source=source, target=target, actor=agent)
    with pytest.raises(TicketError) as exc:
        customer_erase(source, actor=admin_user)
    assert exc.value.code == TicketErrorCode.MERGE_MERGED
    assert f"#{target.pk}" in exc.value.message
    customer_erase(target, actor=admin_user)
    assert database_traces(["mergedname"]) == []


def test_an_erased_ticket_stays_closed_to_the_rating_link(
    person: Person, admin_user: Any, client: Any
) -> None:
    from tickets.portal.tokens import rating_link_url

    url = rating_link_url(ticket_id=person.tickets["web"].pk, customer_id=person.customer.pk)
    customer_erase(person.customer, actor=admin_user)
    path = url.split("desk.example.com", 1)[1]
    assert client.get(path).status_code == 404
    assert Ticket.objects.get(pk=person.tickets["web"].pk).status == Status.SOLVED


def test_an_erased_customers_ticket_takes_no_new_reply_or_note(
    person: Person, admin_user: Any, agent: Any
) -> None:
    from tickets.services import message_reply, note_add

    ticket = person.tickets["email"]
    customer_erase(person.customer, actor=admin_user)
    count = Message.objects.filter(ticket=ticket).count()
    for write in (
        lambda: message_reply(ticket=ticket, author=agent, body_text="Hello again"),
        lambda: note_add(ticket=ticket, author=agent, body_text="they called"),
    ):
        with pytest.raises(TicketError) as exc:
            write()
        assert exc.value.code == TicketErrorCode.ALREADY_ERASED
    assert Message.objects.filter(ticket=ticket).count() == count
