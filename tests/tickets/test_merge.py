import pytest

from tests.factories import IdentityFactory
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import (
    Channel,
    ContactIdentity,
    Customer,
    EventKind,
    IdentityKind,
    Message,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.services import (
    customer_merge,
    message_reply,
    ticket_create,
    ticket_followers_add,
    ticket_merge,
    ticket_set_status,
    ticket_tags_change,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(ingest, agent):
    source = ingest(external_id="1", subject="Zipper broke").ticket
    target = ingest(external_id="2", subject="Zipper broke again").ticket
    ticket_tags_change(ticket=source, actor=agent, add=["zipper"])
    follower = IdentityFactory(value="cc@example.com")
    ticket_followers_add(ticket=source, identities=[follower], actor=agent)
    return source, target


def test_it_moves_messages_events_followers_and_tags_and_closes_the_source(pair, agent):
    source, target = pair
    source_events = set(TicketEvent.objects.filter(ticket=source).values_list("pk", flat=True))

    merged = ticket_merge(source=source, target=target, actor=agent)

    source.refresh_from_db()
    assert merged.pk == target.pk
    assert Message.objects.filter(ticket=target).count() == 2
    assert not Message.objects.filter(ticket=source).exists()
    assert source_events <= set(
        TicketEvent.objects.filter(ticket=target).values_list("pk", flat=True)
    )
    assert list(target.tags.values_list("name", flat=True)) == ["zipper"]
    assert target.followers.filter(value="cc@example.com").exists()
    assert source.status == Status.CLOSED and source.merged_into_id == target.pk
    assert source.closed_at is not None
    assert TicketEvent.objects.get(ticket=source, kind=EventKind.MERGED).data == {
        "into_ticket": target.number
    }
    assert TicketEvent.objects.get(ticket=target, kind=EventKind.MERGED).data == {
        "from_ticket": source.number,
        "messages": 1,
    }


def test_it_lands_replies_to_the_source_on_the_target(pair, agent, ingest):
    source, target = pair
    ours = message_reply(ticket=source, author=agent, body_text="On it")
    ticket_merge(source=source, target=target, actor=agent)

    by_number = ingest(external_id="3", ticket_reference=str(source.number))
    by_token = ingest(external_id="4", ticket_reference=source.reply_token)
    by_header = ingest(external_id="5", thread_hints=(ours.rfc_message_id,))

    assert {by_number.ticket.pk, by_token.ticket.pk, by_header.ticket.pk} == {target.pk}


def test_it_refuses_an_agent_reply_on_the_merged_source(pair, agent):
    source, target = pair
    ticket_merge(source=source, target=target, actor=agent)

    with pytest.raises(TicketError) as exc:
        message_reply(ticket=source, author=agent, body_text="Hello?")

    assert exc.value.code == TicketErrorCode.MERGE_MERGED
    assert f"#{target.number}" in exc.value.message


def test_it_refuses_to_merge_a_ticket_into_itself(pair, agent):
    source, _ = pair

    with pytest.raises(TicketError) as exc:
        ticket_merge(source=source, target=source, actor=agent)

    assert exc.value.code == TicketErrorCode.MERGE_SELF


def test_it_refuses_to_merge_a_ticket_twice(pair, agent):
    source, target = pair
    third = ticket_create(customer=target.customer, subject="Third", channel=Channel.EMAIL)
    ticket_merge(source=source, target=target, actor=agent)

    with pytest.raises(TicketError) as exc:
        ticket_merge(source=source, target=third, actor=agent)
    assert exc.value.code == TicketErrorCode.MERGE_MERGED

    with pytest.raises(TicketError):
        ticket_merge(source=third, target=source, actor=agent)
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk


def test_it_refuses_to_merge_into_a_closed_ticket(pair, agent):
    source, target = pair
    ticket_set_status(ticket=target, status=Status.CLOSED, actor=agent)

    with pytest.raises(TicketError) as exc:
        ticket_merge(source=source, target=target, actor=agent)

    assert exc.value.code == TicketErrorCode.INVALID_STATUS
    assert Message.objects.filter(ticket=source).count() == 1


def test_it_refuses_a_merge_by_a_non_agent(pair, django_user_model):
    source, target = pair
    nobody = django_user_model.objects.create_user("nobody")

    with pytest.raises(TicketError) as exc:
        ticket_merge(source=source, target=target, actor=nobody)

    assert exc.value.code == TicketErrorCode.NOT_AN_AGENT
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None


def test_it_makes_the_source_customer_follow_a_target_of_another_customer(ingest, agent):
    source = ingest(external_id="1", sender="anna@example.com").ticket
    target = ingest(external_id="2", sender="ben@example.com").ticket

    ticket_merge(source=source, target=target, actor=agent)

    assert list(target.followers.values_list("value", flat=True)) == ["anna@example.com"]


# --- customers --------------------------------------------------------------------------


def test_it_moves_identities_and_tickets_to_the_target_customer(ingest, agent):
    by_mail = ingest(external_id="1", sender="dana@example.com", name="Dana").ticket
    by_sms = ingest(
        external_id="2", channel=Channel.SMS, kind=IdentityKind.PHONE, sender="+14155550123"
    ).ticket
    source, target = by_sms.customer, by_mail.customer

    result = customer_merge(source=source, target=target, actor=agent)

    source.refresh_from_db()
    assert result.pk == target.pk
    assert source.merged_into_id == target.pk
    assert set(ContactIdentity.objects.filter(customer=target).values_list("value", flat=True)) == {
        "dana@example.com",
        "+14155550123",
    }
    assert set(Ticket.objects.filter(customer=target)) == {by_mail, by_sms}
    event = TicketEvent.objects.get(ticket=by_sms, kind=EventKind.CUSTOMER_MERGED)
    assert event.data == {"from_customer": source.pk, "to_customer": target.pk}
    assert event.actor == agent


def test_it_files_later_messages_of_a_merged_customer_under_the_target(ingest, agent):
    sms = ingest(
        external_id="1", channel=Channel.SMS, kind=IdentityKind.PHONE, sender="+14155550123"
    ).ticket
    mail = ingest(external_id="2").ticket
    customer_merge(source=sms.customer, target=mail.customer, actor=agent)

    later = ingest(
        external_id="3", channel=Channel.SMS, kind=IdentityKind.PHONE, sender="+14155550123"
    )

    assert later.ticket.customer_id == mail.customer_id
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1


def test_it_refuses_self_and_double_customer_merges(customer, agent):
    other = Customer.objects.create(name="Other")
    third = Customer.objects.create(name="Third")

    with pytest.raises(TicketError) as exc:
        customer_merge(source=customer, target=customer, actor=agent)
    assert exc.value.code == TicketErrorCode.MERGE_SELF

    customer_merge(source=other, target=customer, actor=agent)
    with pytest.raises(TicketError) as exc:
        customer_merge(source=other, target=third, actor=agent)
    assert exc.value.code == TicketErrorCode.MERGE_MERGED
