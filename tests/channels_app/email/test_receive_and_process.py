"""IMAP and the pipe store and process a message in one transaction (one commit), and still
keep every payload: ingested, quarantined, or left for the retry of stale payloads."""

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection

from channels_app.email.inbound import email_receive_and_process
from channels_app.ingest import ProcessingDeferred, raw_inbound_retry_stale
from channels_app.models import Mailbox, RawInbound, RawStatus
from tickets.models import Customer, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = b"From: Dana <dana@example.com>\r\nTo: support@helpdesk.test\r\nSubject: Help\r\n\r\nhi\r\n"
# PostgreSQL text cannot hold NUL: the ingest fails at the INSERT of the message, after
# the customer was created.
NUL = b"From: nul@example.com\r\nTo: support@helpdesk.test\r\nSubject: x\r\n\r\nbad \x00 byte\r\n"


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox.objects.create(
        name="Support", address="support@helpdesk.test", send_acknowledgement=False
    )


def test_it_stores_and_ingests_in_one_transaction(mailbox: Mailbox) -> None:
    statements: list[tuple[str, bool]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with (
        mock.patch.object(connection, "commit", wraps=connection.commit) as commit,
        connection.execute_wrapper(record),
    ):
        raw, result = email_receive_and_process(payload=GOOD, source="test", mailbox=mailbox)

    assert result is not None and result.created_ticket
    assert commit.call_count == 1
    # Every write, the payload's INSERT first, ran inside that one transaction; the row is
    # neither read back nor updated.
    first = next(
        i
        for i, (sql, _) in enumerate(statements)
        if sql.startswith('INSERT INTO "channels_app_rawinbound"')
    )
    assert all(sql.startswith("SELECT") for sql, _ in statements[:first])
    assert all(in_transaction for _, in_transaction in statements[first:])
    assert not any('"channels_app_rawinbound"' in sql for sql, _ in statements[first + 1 :])
    raw.refresh_from_db()
    assert raw.status == RawStatus.PROCESSED and raw.attempts == 1 and raw.processed_at
    assert result.message.raw_id == raw.pk
    assert bytes(raw.payload) == GOOD


def test_a_message_that_fails_ingest_is_quarantined_and_nothing_else_is_kept(
    mailbox: Mailbox,
) -> None:
    raw, result = email_receive_and_process(payload=NUL, source="test", mailbox=mailbox)

    assert result is None
    raw.refresh_from_db()
    assert raw.status == RawStatus.QUARANTINED and raw.attempts == 1
    assert raw.error.startswith("ValueError") and "NUL" in raw.error
    assert bytes(raw.payload) == NUL
    # The ingest's savepoint was rolled back: no half-made customer or ticket.
    assert not Customer.objects.exists() and not Ticket.objects.exists()


def test_an_unreadable_message_is_quarantined(mailbox: Mailbox) -> None:
    raw, result = email_receive_and_process(
        payload=b"just some words\r\n", source="test", mailbox=mailbox
    )
    assert result is None
    assert RawInbound.objects.get(pk=raw.pk).status == RawStatus.QUARANTINED


def test_an_error_a_retry_may_fix_keeps_the_payload_for_the_retry(mailbox: Mailbox) -> None:
    with (
        mock.patch(
            "channels_app.ingest.inbound_message_ingest",
            side_effect=OperationalError("deadlock detected"),
        ),
        pytest.raises(ProcessingDeferred) as deferred,
    ):
        email_receive_and_process(payload=GOOD, source="test", mailbox=mailbox)

    assert isinstance(deferred.value.__cause__, OperationalError)
    raw = RawInbound.objects.get()  # committed, not rolled back with the error
    assert raw.pk == deferred.value.raw.pk
    assert raw.status == RawStatus.RECEIVED and raw.processed_at is None
    assert not Ticket.objects.exists()

    RawInbound.objects.filter(pk=raw.pk).update(received_at=raw.received_at.replace(year=2000))
    assert raw_inbound_retry_stale() == 1
    raw.refresh_from_db()
    assert raw.status == RawStatus.PROCESSED
    assert Message.objects.get().raw_id == raw.pk


def test_a_dead_database_stores_nothing_and_says_so(mailbox: Mailbox) -> None:
    # The commit itself fails: the caller (IMAP, the pipe) must not acknowledge the mail.
    with (
        mock.patch.object(
            connection, "commit", side_effect=OperationalError("server closed the connection")
        ),
        pytest.raises(OperationalError),
    ):
        email_receive_and_process(payload=GOOD, source="test", mailbox=mailbox)
    connection.rollback()
    assert not RawInbound.objects.exists()


def test_the_same_message_twice_is_stored_twice_and_ingested_once(mailbox: Any) -> None:
    payload = GOOD.replace(b"Subject", b"Message-ID: <twice@example.com>\r\nSubject")
    _, first = email_receive_and_process(payload=payload, source="test", mailbox=mailbox)
    _, second = email_receive_and_process(payload=payload, source="test", mailbox=mailbox)
    assert first is not None and second is not None and second.duplicate
    assert RawInbound.objects.filter(status=RawStatus.PROCESSED).count() == 2
    assert Message.objects.count() == 1
