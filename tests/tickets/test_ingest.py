import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app import ingest as ingest_module
from channels_app.ingest import inbound_message_ingest
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
from tickets.services import message_reply, ticket_merge, ticket_set_status

pytestmark = pytest.mark.django_db


def _status(ticket: Ticket, status: str) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(status=status)


# --- dedup ------------------------------------------------------------------------------


def test_it_stores_one_message_for_the_same_external_id_twice(ingest):
    first = ingest(external_id="<a@x>")
    second = ingest(external_id="<a@x>")

    assert not first.duplicate and first.created_ticket
    assert second.duplicate and second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_it_keeps_the_same_external_id_on_two_channels_apart(ingest):
    ingest(external_id="42", channel=Channel.EMAIL)
    ingest(external_id="42", channel=Channel.API)

    assert Message.objects.count() == 2


def test_it_never_deduplicates_messages_without_an_external_id(ingest):
    ingest(external_id=None)
    ingest(external_id=None)

    assert Message.objects.count() == 2


def test_it_refuses_an_external_id_too_long_to_store_exactly(ingest):
    with pytest.raises(TicketError) as exc:
        ingest(external_id="x" * 501)

    assert exc.value.code == TicketErrorCode.INVALID_MESSAGE
    assert "longer than 500" in exc.value.message
    assert Message.objects.count() == 0


def test_it_refuses_an_unknown_channel(ingest):
    with pytest.raises(TicketError) as exc:
        ingest(channel="fax")

    assert exc.value.code == TicketErrorCode.INVALID_MESSAGE
    assert Ticket.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_stores_one_message_when_two_workers_race_on_the_same_external_id(
    make_inbound, monkeypatch, pg
):
    # Given two workers that both start ingesting before either has written anything
    # (there is no duplicate lookup first: the unique constraint decides)
    barrier = threading.Barrier(2, timeout=10)
    real_check = ingest_module._check

    def check_then_wait(message):
        real_check(message)
        barrier.wait()

    monkeypatch.setattr(ingest_module, "_check", check_then_wait)
    results, errors = [], []

    def work():
        try:
            results.append(inbound_message_ingest(message=make_inbound(external_id="<race@x>")))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    # When they ingest the same provider message at once
    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Then one message, one ticket, one customer; the loser reports the winner's message
    assert errors == []
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert Customer.objects.count() == 1
    assert sorted(r.duplicate for r in results) == [False, True]
    assert {r.message.pk for r in results} == {Message.objects.get().pk}


# --- identity resolution ----------------------------------------------------------------


def test_it_resolves_an_email_in_another_case_to_the_same_customer(ingest):
    a = ingest(external_id="1", sender="Dana@Example.COM")
    b = ingest(external_id="2", sender="dana@example.com ")

    assert a.ticket.customer_id == b.ticket.customer_id
    assert Customer.objects.count() == 1
    assert ContactIdentity.objects.get().value == "dana@example.com"


def test_it_resolves_phone_numbers_in_any_format_to_one_e164_identity(ingest):
    a = ingest(
        external_id="1",
        channel=Channel.SMS,
        kind=IdentityKind.PHONE,
        sender="(415) 555-0123",
        join_open_ticket=True,
    )
    b = ingest(
        external_id="2",
        channel=Channel.SMS,
        kind=IdentityKind.PHONE,
        sender="+1 415-555-0123",
        join_open_ticket=True,
    )

    assert a.ticket.customer_id == b.ticket.customer_id
    assert ContactIdentity.objects.get().value == "+14155550123"


def test_it_refuses_an_invalid_sender_with_a_clear_error_and_stores_nothing(ingest):
    with pytest.raises(TicketError) as exc:
        ingest(sender="not-an-address")

    assert exc.value.code == TicketErrorCode.INVALID_IDENTITY
    assert "not a valid email address" in exc.value.message
    assert (Customer.objects.count(), Ticket.objects.count()) == (0, 0)


def test_it_names_the_sender_from_the_display_name(ingest):
    result = ingest(name="Dana Scully")

    assert result.ticket.customer.name == "Dana Scully"
    assert result.message.author_identity.display_name == "Dana Scully"


# --- threading: reply headers -----------------------------------------------------------


def test_it_threads_a_reply_to_our_message_id_onto_the_ticket(ingest, agent):
    first = ingest(external_id="1")
    ours = message_reply(ticket=first.ticket, author=agent, body_text="Looking into it.")

    reply = ingest(external_id="2", subject="Re: something", thread_hints=(ours.rfc_message_id,))

    assert reply.ticket.pk == first.ticket.pk and not reply.created_ticket
    assert reply.message.in_reply_to == ours.rfc_message_id


def test_it_threads_a_reply_to_the_customers_own_message_id(ingest):
    first = ingest(external_id="1", rfc_message_id="<cust-1@mail.example>")

    again = ingest(external_id="2", thread_hints=("<unknown@x>", "<cust-1@mail.example>"))

    assert again.ticket.pk == first.ticket.pk


def test_it_threads_a_cc_colleague_replying_to_our_message(ingest, agent):
    first = ingest(external_id="1")
    ours = message_reply(ticket=first.ticket, author=agent, body_text="Hi")

    colleague = ingest(
        external_id="2", sender="boss@example.com", thread_hints=(ours.rfc_message_id,)
    )

    assert colleague.ticket.pk == first.ticket.pk
    assert colleague.message.author_identity.value == "boss@example.com"


def test_it_ignores_blank_thread_hints_instead_of_matching_messages_without_ids(ingest):
    sms = ingest(
        external_id="sms-1", channel=Channel.SMS, kind=IdentityKind.PHONE, sender="+14155550123"
    )
    assert sms.message.rfc_message_id == ""

    mail = ingest(external_id="m-1", sender="stranger@example.com", thread_hints=("", "  "))

    assert mail.created_ticket and mail.ticket.pk != sms.ticket.pk


def test_it_opens_a_new_ticket_for_an_unknown_message_id(ingest):
    first = ingest(external_id="1")

    other = ingest(external_id="2", thread_hints=("<nobody@x>",))

    assert other.created_ticket and other.ticket.pk != first.ticket.pk


# --- threading: ticket reference --------------------------------------------------------


def test_it_joins_a_ticket_by_number_from_the_same_customer(ingest):
    first = ingest(external_id="1")

    again = ingest(external_id="2", ticket_reference=f"#{first.ticket.number}")

    assert again.ticket.pk == first.ticket.pk and not again.created_ticket


def test_it_does_not_join_a_ticket_by_bare_number_from_a_stranger(ingest):
    first = ingest(external_id="1")

    stranger = ingest(
        external_id="2", sender="eve@example.com", ticket_reference=str(first.ticket.number)
    )

    assert stranger.created_ticket and stranger.ticket.pk != first.ticket.pk
    assert stranger.ticket.customer_id != first.ticket.customer_id


def test_it_joins_a_ticket_by_its_reply_token_from_anyone(ingest):
    first = ingest(external_id="1")

    via_token = ingest(
        external_id="2", sender="assistant@example.com", ticket_reference=first.ticket.reply_token
    )

    assert via_token.ticket.pk == first.ticket.pk


def test_it_ignores_a_reference_to_a_ticket_that_does_not_exist(ingest):
    result = ingest(external_id="1", ticket_reference="99999999999999999999999")

    assert result.created_ticket


def test_it_lets_a_follower_use_the_bare_number(ingest):
    first = ingest(external_id="1", cc=(_cc("colleague@example.com"),))
    assert first.ticket.followers.filter(value="colleague@example.com").exists()

    again = ingest(
        external_id="2", sender="colleague@example.com", ticket_reference=str(first.ticket.number)
    )

    assert again.ticket.pk == first.ticket.pk


def _cc(address):
    from channels_app.inbound import Identity

    return Identity(kind=IdentityKind.EMAIL, value=address)


# --- join_open_ticket -------------------------------------------------------------------


def _sms(ingest, external_id, **fields):
    fields.setdefault("sender", "+14155550123")
    return ingest(
        external_id=external_id,
        channel=Channel.SMS,
        kind=IdentityKind.PHONE,
        join_open_ticket=True,
        **fields,
    )


def test_it_continues_the_customers_recent_open_ticket_for_sms(ingest):
    first = _sms(ingest, "s1")

    second = _sms(ingest, "s2", text="Any news?")

    assert second.ticket.pk == first.ticket.pk and not second.created_ticket


def test_it_does_not_join_an_open_ticket_for_email(ingest):
    first = ingest(external_id="1")

    second = ingest(external_id="2", subject="Another question")

    assert second.created_ticket and second.ticket.pk != first.ticket.pk


def test_it_does_not_join_an_open_ticket_older_than_the_window(ingest):
    first = _sms(ingest, "s1")
    Ticket.objects.filter(pk=first.ticket.pk).update(updated_at=timezone.now() - timedelta(days=8))

    second = _sms(ingest, "s2")

    assert second.created_ticket


@pytest.mark.parametrize("status", [Status.SOLVED, Status.CLOSED])
def test_it_does_not_join_a_finished_ticket_by_recency(ingest, status):
    first = _sms(ingest, "s1")
    _status(first.ticket, status)

    second = _sms(ingest, "s2")

    assert second.created_ticket and second.ticket.follow_up_of_id is None


def test_it_does_not_join_another_customers_open_ticket(ingest):
    _sms(ingest, "s1")

    other = _sms(ingest, "s2", sender="+14155550199")

    assert other.created_ticket


# --- reopen rules -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.PENDING, Status.SOLVED])
def test_it_reopens_a_pending_or_solved_ticket_when_the_customer_replies(ingest, status):
    first = ingest(external_id="1")
    ticket_set_status(ticket=first.ticket, status=status, actor=None)

    reply = ingest(external_id="2", ticket_reference=str(first.ticket.number))

    ticket = Ticket.objects.get(pk=first.ticket.pk)
    assert reply.ticket.pk == ticket.pk
    assert ticket.status == Status.OPEN and ticket.solved_at is None
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.REOPENED)
    assert event.data == {"from": status, "to": "open", "by": "customer"}


@pytest.mark.parametrize("status", [Status.NEW, Status.OPEN, Status.ON_HOLD])
def test_it_leaves_the_status_of_a_working_ticket_alone(ingest, status):
    first = ingest(external_id="1")
    _status(first.ticket, status)

    ingest(external_id="2", ticket_reference=str(first.ticket.number))

    assert Ticket.objects.get(pk=first.ticket.pk).status == status
    assert not TicketEvent.objects.filter(kind=EventKind.REOPENED).exists()


def test_it_opens_a_follow_up_ticket_when_the_customer_writes_to_a_closed_one(ingest):
    first = ingest(external_id="1")
    ticket_set_status(ticket=first.ticket, status=Status.CLOSED, actor=None)

    reply = ingest(external_id="2", ticket_reference=str(first.ticket.number))

    old = Ticket.objects.get(pk=first.ticket.pk)
    assert old.status == Status.CLOSED
    assert reply.created_ticket and reply.ticket.follow_up_of_id == old.pk
    assert reply.ticket.customer_id == old.customer_id
    assert TicketEvent.objects.get(ticket=old, kind=EventKind.FOLLOW_UP).data == {
        "ticket": reply.ticket.number
    }


@pytest.mark.parametrize("status", [Status.PENDING, Status.SOLVED, Status.CLOSED])
def test_it_never_reopens_for_an_automated_message(ingest, status):
    first = ingest(external_id="1")
    _status(first.ticket, status)

    auto = ingest(
        external_id="2",
        ticket_reference=str(first.ticket.number),
        is_automated=True,
        text="I am out of office",
    )

    assert auto.ticket.pk == first.ticket.pk and not auto.created_ticket
    assert Ticket.objects.get(pk=first.ticket.pk).status == status
    assert Ticket.objects.count() == 1
    assert auto.message.is_automated


# --- merged tickets ---------------------------------------------------------------------


def test_it_files_a_reply_to_a_merged_ticket_on_the_surviving_ticket(ingest, agent):
    source = ingest(external_id="1").ticket
    target = ingest(external_id="2", subject="Same problem").ticket
    ticket_merge(source=source, target=target, actor=agent)

    reply = ingest(external_id="3", ticket_reference=str(source.number))

    assert reply.ticket.pk == target.pk


# --- content ----------------------------------------------------------------------------


def test_it_sanitizes_html_and_derives_text_when_only_html_came(ingest):
    result = ingest(text="", html='<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>')

    assert "<script" not in result.message.body_html and "onclick" not in result.message.body_html
    assert result.message.body_text == "Hi there"


def test_it_takes_the_subject_from_the_first_line_when_none_came(ingest):
    result = ingest(subject="", text="\n  Printer is on fire\nplease help")

    assert result.ticket.subject == "Printer is on fire"


def test_it_reports_where_a_duplicate_lives_after_a_merge(ingest, agent):
    source = ingest(external_id="1").ticket
    target = ingest(external_id="2", subject="Other").ticket
    ticket_merge(source=source, target=target, actor=agent)

    again = ingest(external_id="1")

    assert again.duplicate and again.ticket.pk == target.pk


def test_it_treats_a_non_ascii_digit_reference_as_no_number(ingest):
    result = ingest(external_id="1", ticket_reference="²³")

    assert result.created_ticket


def test_it_threads_on_a_reply_token_made_only_of_digits(make_inbound):
    first = inbound_message_ingest(message=make_inbound(external_id="1"))
    Ticket.objects.filter(pk=first.ticket.pk).update(reply_token="1234567890123456")

    stranger = inbound_message_ingest(
        message=make_inbound(
            external_id="2", sender="colleague@example.org", ticket_reference="1234567890123456"
        )
    )

    assert stranger.ticket.pk == first.ticket.pk
