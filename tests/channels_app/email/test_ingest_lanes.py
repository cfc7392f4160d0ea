"""A fetched batch is ingested on several threads, and no conversation is reordered."""

import threading
from email.message import EmailMessage
from typing import Any
from unittest import mock

import pytest

from channels_app.email import inbound as email_inbound
from channels_app.email.adapter import lane_keys
from channels_app.email.inbound import email_receive_and_process_many
from channels_app.ingest_lanes import lanes_plan, lanes_run
from channels_app.models import Mailbox, RawInbound, RawStatus
from tickets.models import Message, Ticket

OWN = {"support@helpdesk.test"}


def mail(
    sender: str, message_id: str, *, answers: list[str] | None = None, subject: str = "Help"
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer <{sender}>"
    msg["To"] = "support@helpdesk.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if answers:
        msg["In-Reply-To"] = answers[-1]
        msg["References"] = " ".join(answers)
    msg.set_content(f"Words from {sender} in {message_id}.\n")
    return msg.as_bytes()


# --- planning (no database) -------------------------------------------------------------


def test_items_sharing_a_key_share_a_lane_in_their_order_even_through_a_third():
    keys = [{"a"}, {"x"}, {"b"}, {"a", "b"}, {"y"}, {"b"}]

    lanes = lanes_plan(keys, 2)

    lane_of = {index: n for n, lane in enumerate(lanes) for index in lane}
    assert lane_of[0] == lane_of[2] == lane_of[3] == lane_of[5]  # 0-3-2-5 linked by a, b
    assert all(lane == sorted(lane) for lane in lanes)
    assert sorted(i for lane in lanes for i in lane) == list(range(6))


def test_unrelated_items_are_spread_evenly_and_one_lane_means_one_list():
    keys = [{f"k{n}"} for n in range(10)]

    assert sorted(len(lane) for lane in lanes_plan(keys, 2)) == [5, 5]
    assert lanes_plan(keys, 1) == [list(range(10))]
    assert lanes_plan([], 2) == []


def test_lane_keys_name_the_ids_the_sender_and_the_ticket_reference_but_not_us():
    payload = (
        b"From: Ann <Ann@Example.com>\r\n"
        b"To: support@helpdesk.test, Bob <bob@example.com>\r\n"
        b"Cc: support+a1b2c3d4e5@helpdesk.test\r\n"
        b"Subject: Re: [#1234] printer\r\n"
        b"Message-ID: <m3@example.com>\r\n"
        b"In-Reply-To: <m2@example.com>\r\n"
        b"References: <m1@example.com>\r\n <m2@example.com>\r\n"  # folded
        b"\r\n"
        b"References: <not-a-header@example.com>\r\n"  # the body: not read
    )

    assert lane_keys(payload, OWN) == {
        "id:<m1@example.com>",
        "id:<m2@example.com>",
        "id:<m3@example.com>",
        "addr:ann@example.com",
        "addr:bob@example.com",
        "ref:a1b2c3d4e5",
        "ref:1234",
    }


def test_lane_keys_of_an_unreadable_payload_are_empty_not_an_error():
    assert lane_keys(b"\xff\xfe garbage without headers", OWN) == set()
    assert lane_keys(b"", OWN) == set()


@pytest.mark.django_db(transaction=True)  # outside a transaction: lanes get threads
def test_an_error_ends_its_lane_and_the_other_lane_goes_on():
    keys = [{"a"}, {"b"}, {"a"}, {"b"}, {"a"}]
    done: list[int] = []

    def work(index: int) -> int:
        if index == 2:
            raise RuntimeError("database went away")
        done.append(index)
        return index

    outcomes = lanes_run(keys=keys, work=work, threads=2)

    assert [o.value for o in outcomes] == [0, 1, None, 3, None]
    assert isinstance(outcomes[2].error, RuntimeError)
    assert outcomes[4].skipped  # after the failure in its lane: not run, not overtaking
    assert sorted(done) == [0, 1, 3]


# --- the email batch on PostgreSQL ------------------------------------------------------


@pytest.fixture
def box(db: None) -> Mailbox:
    return Mailbox.objects.create(
        name="Support", address="support@helpdesk.test", send_acknowledgement=False
    )


@pytest.mark.django_db(transaction=True)
def test_a_batch_runs_on_two_threads_and_each_conversation_stays_in_order(box, settings):
    settings.HELPDESK_INGEST_THREADS = 2
    chain = ["<c1@example.com>", "<c2@example.com>", "<c3@example.com>"]
    payloads = [
        mail("ann@example.com", chain[0]),
        *[mail(f"other{n}@example.com", f"<o{n}@example.com>") for n in range(10)],
        # A colleague answers the first mail, then the customer answers the colleague.
        mail("colleague@example.com", chain[1], answers=chain[:1]),
        *[mail(f"more{n}@example.com", f"<p{n}@example.com>") for n in range(10)],
        mail("ann@example.com", chain[2], answers=chain[:2]),
    ]
    threads: set[str] = set()
    original = email_inbound.email_receive_and_process

    def watched(**kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return original(**kwargs)

    with mock.patch.object(email_inbound, "email_receive_and_process", watched):
        outcomes = email_receive_and_process_many(payloads=payloads, source="test", mailbox=box)

    assert all(o.value is not None and o.error is None for o in outcomes)
    assert len(threads) == 2  # the caller's and one lane thread
    conversation = Message.objects.filter(rfc_message_id__in=chain).order_by("pk")
    assert [m.rfc_message_id for m in conversation] == chain  # stored in the order sent
    assert len({m.ticket_id for m in conversation}) == 1
    assert Ticket.objects.count() == 21  # the conversation's one, and one per other mail
    assert RawInbound.objects.filter(status=RawStatus.PROCESSED).count() == len(payloads)


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_in_another_batch_is_recognised_whatever_thread_reads_it(box, settings):
    settings.HELPDESK_INGEST_THREADS = 2
    payloads = [mail(f"d{n}@example.com", f"<d{n}@example.com>") for n in range(6)]
    email_receive_and_process_many(payloads=payloads, source="test", mailbox=box)

    again = email_receive_and_process_many(payloads=payloads, source="test", mailbox=box)

    assert all(o.value is not None and o.value[1].duplicate for o in again)
    assert Message.objects.count() == 6


def test_inside_a_transaction_the_batch_runs_on_the_callers_thread(box, settings):
    # A lane thread has its own connection, which could not see this test's rows.
    settings.HELPDESK_INGEST_THREADS = 4
    threads: set[str] = set()
    original = email_inbound.email_receive_and_process

    def watched(**kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return original(**kwargs)

    payloads = [mail(f"t{n}@example.com", f"<t{n}@example.com>") for n in range(4)]
    with mock.patch.object(email_inbound, "email_receive_and_process", watched):
        outcomes = email_receive_and_process_many(payloads=payloads, source="test", mailbox=box)

    assert threads == {threading.current_thread().name}
    assert [o.value[1].ticket.subject for o in outcomes if o.value] == ["Help"] * 4


def test_an_unreadable_message_in_a_batch_is_quarantined_and_the_rest_ingested(box):
    payloads = [
        mail("ok1@example.com", "<ok1@example.com>"),
        b"From: support@helpdesk.test\r\nSubject: loop\r\n\r\nx\r\n",  # from ourselves
        mail("ok2@example.com", "<ok2@example.com>"),
    ]

    outcomes = email_receive_and_process_many(payloads=payloads, source="test", mailbox=box)

    assert [o.value is not None for o in outcomes] == [True, True, True]  # all stored
    assert outcomes[1].value is not None and outcomes[1].value[1] is None
    assert outcomes[1].value[0].status == RawStatus.QUARANTINED
    assert Ticket.objects.count() == 2
