import pytest
from django.core import mail

from channels_app.models import Delivery, DeliveryStatus
from tests.factories import IdentityFactory
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import Channel, Direction, EventKind, IdentityKind, Status, TicketEvent
from tickets.services import NewFile, message_reply, note_add, ticket_followers_add

pytestmark = pytest.mark.django_db


def test_it_writes_the_reply_and_its_delivery_and_sends_on_commit(
    ingest, agent, django_capture_on_commit_callbacks
):
    ticket = ingest(external_id="1", rfc_message_id="<c1@mail.example>").ticket

    with django_capture_on_commit_callbacks(execute=True):
        reply = message_reply(ticket=ticket, author=agent, body_text="We shipped it.")

    delivery = Delivery.objects.get(message=reply)
    assert reply.direction == Direction.OUTBOUND and reply.channel == Channel.EMAIL
    assert reply.in_reply_to == "<c1@mail.example>"
    assert reply.references == "<c1@mail.example>"
    assert delivery.recipient == "dana@example.com"
    assert delivery.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@example.com"]


def test_it_never_delivers_an_internal_note(ingest, agent, django_capture_on_commit_callbacks):
    ticket = ingest(external_id="1").ticket

    with django_capture_on_commit_callbacks(execute=True):
        note = note_add(ticket=ticket, author=agent, body_text="Customer is a VIP")

    assert note.is_internal and note.rfc_message_id == ""
    assert not Delivery.objects.exists()
    assert mail.outbox == []
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.status == Status.NEW


def test_it_sets_first_response_at_on_the_first_public_reply_only(ingest, agent):
    ticket = ingest(external_id="1").ticket
    note_add(ticket=ticket, author=agent, body_text="Internal first")

    message_reply(ticket=ticket, author=agent, body_text="Public one")
    ticket.refresh_from_db()
    first = ticket.first_response_at
    message_reply(ticket=ticket, author=agent, body_text="Public two")
    ticket.refresh_from_db()

    assert first is not None and ticket.first_response_at == first


def test_it_moves_a_new_ticket_to_open_on_the_first_reply(ingest, agent):
    ticket = ingest(external_id="1").ticket

    message_reply(ticket=ticket, author=agent, body_text="Hi")

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS).count() == 1


def test_it_sets_the_requested_status_with_the_reply(ingest, agent):
    ticket = ingest(external_id="1").ticket

    message_reply(ticket=ticket, author=agent, body_text="Done", set_status=Status.SOLVED)

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED and ticket.solved_at is not None


def test_it_refuses_a_reply_from_a_non_agent(ingest, django_user_model):
    ticket = ingest(external_id="1").ticket
    customer_user = django_user_model.objects.create_user("customer-login")

    for author in (customer_user, None):
        with pytest.raises(TicketError) as exc:
            message_reply(ticket=ticket, author=author, body_text="Hi")
        assert exc.value.code == TicketErrorCode.NOT_AN_AGENT

    assert ticket.messages.count() == 1


def test_it_refuses_an_empty_reply(ingest, agent):
    ticket = ingest(external_id="1").ticket

    with pytest.raises(TicketError) as exc:
        message_reply(ticket=ticket, author=agent, body_text="   ")

    assert exc.value.code == TicketErrorCode.EMPTY_MESSAGE
    assert "Write a message" in exc.value.message


def test_it_refuses_an_unknown_channel(ingest, agent):
    ticket = ingest(external_id="1").ticket

    with pytest.raises(TicketError) as exc:
        message_reply(ticket=ticket, author=agent, body_text="Hi", channel="fax")

    assert exc.value.code == TicketErrorCode.INVALID_CHANNEL


def test_it_explains_when_the_customer_has_no_address_for_the_channel(ingest, agent):
    ticket = ingest(external_id="1").ticket

    with pytest.raises(TicketError) as exc:
        message_reply(ticket=ticket, author=agent, body_text="Hi", channel=Channel.SMS)

    assert exc.value.code == TicketErrorCode.NO_RECIPIENT
    assert "no phone number" in exc.value.message
    assert not Delivery.objects.exists()


def test_it_replies_by_sms_to_a_ticket_that_came_by_sms(ingest, agent):
    ticket = ingest(
        external_id="s1", channel=Channel.SMS, kind=IdentityKind.PHONE, sender="+14155550123"
    ).ticket

    reply = message_reply(ticket=ticket, author=agent, body_text="Hi")

    assert reply.channel == Channel.SMS and reply.rfc_message_id == "" and reply.in_reply_to == ""
    assert Delivery.objects.get(message=reply).recipient == "+14155550123"


def test_it_copies_email_followers_once(ingest, agent):
    ticket = ingest(external_id="1").ticket
    cc = IdentityFactory(value="cc@example.com")
    ticket_followers_add(ticket=ticket, identities=[cc], actor=agent)

    reply = message_reply(ticket=ticket, author=agent, body_text="Hi all")

    assert sorted(Delivery.objects.filter(message=reply).values_list("recipient", flat=True)) == [
        "cc@example.com",
        "dana@example.com",
    ]


def test_it_sanitizes_reply_html_and_stores_attachments_under_generated_names(ingest, agent):
    ticket = ingest(external_id="1").ticket

    reply = message_reply(
        ticket=ticket,
        author=agent,
        body_text="",
        body_html="<p>See <b>attached</b><script>x()</script></p>",
        attachments=[NewFile("../../etc/passwd.txt", "text/plain\r\nX-Evil: 1", b"hello")],
    )

    attachment = reply.attachments.get()
    assert "<script" not in reply.body_html and reply.body_text == "See attached"
    assert attachment.filename == "passwd.txt"
    assert attachment.content_type == "application/octet-stream"
    assert "passwd" not in attachment.file.name and attachment.file.name.endswith(".txt")
    assert attachment.size == 5 and len(attachment.sha256) == 64
