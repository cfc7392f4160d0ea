"""IMAP polling against a real Dovecot: mail is flagged read only after it is stored."""

import imaplib
from unittest import mock

import pytest
from django.db import OperationalError

from channels_app.email import imap as imap_module
from channels_app.email.imap import mailbox_poll
from channels_app.ingest import ProcessingDeferred
from channels_app.models import ImapSecurity, Mailbox, RawInbound, RawStatus
from channels_app.tasks import mailbox_poll_all_task
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def append(dovecot, mailbox: Mailbox, *payloads: bytes) -> None:
    client = imaplib.IMAP4(dovecot.host, dovecot.port)
    client.login(mailbox.imap_username, dovecot.password)
    for payload in payloads:
        status, _ = client.append("INBOX", None, None, payload)
        assert status == "OK"
    client.logout()


def flags(dovecot, mailbox: Mailbox, folder: str = "INBOX") -> list[bytes]:
    client = imaplib.IMAP4(dovecot.host, dovecot.port)
    client.login(mailbox.imap_username, dovecot.password)
    _, count = client.select(folder, readonly=True)
    if count == [b"0"]:
        client.logout()
        return []
    _, data = client.fetch("1:*", "(FLAGS)")
    client.logout()
    return [item for item in data if item]


def mail(n: int) -> bytes:
    return (
        f"From: customer{n}@example.com\r\nTo: support@helpdesk.test\r\n"
        f"Subject: Problem {n}\r\nMessage-ID: <imap-{n}@example.com>\r\n\r\nBody {n}\r\n"
    ).encode()


def test_it_turns_unread_mail_into_tickets_and_flags_it_read(dovecot, imap_mailbox):
    append(dovecot, imap_mailbox, mail(1), mail(2))

    result = mailbox_poll(mailbox_id=imap_mailbox.pk)

    assert result.fetched == 2 and result.error == ""
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Problem 1", "Problem 2"]
    assert all(b"\\Seen" in line for line in flags(dovecot, imap_mailbox))
    assert set(RawInbound.objects.values_list("source", flat=True)) == {
        "imap:support@helpdesk.test"
    }
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_success_at is not None and imap_mailbox.last_error == ""
    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 0  # read mail stays done


def test_it_moves_mail_to_the_processed_folder_when_configured(dovecot, imap_mailbox):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_processed_folder="Processed")
    append(dovecot, imap_mailbox, mail(3))

    mailbox_poll(mailbox_id=imap_mailbox.pk)

    assert flags(dovecot, imap_mailbox) == []  # INBOX is empty
    assert len(flags(dovecot, imap_mailbox, "Processed")) == 1
    assert Ticket.objects.count() == 1


def test_it_loses_nothing_when_processing_crashes_before_commit(dovecot, imap_mailbox):
    append(dovecot, imap_mailbox, mail(4))

    with (
        mock.patch(
            "channels_app.ingest.inbound_message_ingest",
            side_effect=OperationalError("server closed"),
        ),
        pytest.raises(ProcessingDeferred),
    ):
        mailbox_poll(mailbox_id=imap_mailbox.pk)

    # Stored but not processed; still unread on the server.
    assert RawInbound.objects.get().status == RawStatus.RECEIVED
    assert not Ticket.objects.exists()
    assert all(b"\\Seen" not in line for line in flags(dovecot, imap_mailbox))

    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 1
    assert Ticket.objects.get().subject == "Problem 4"
    assert all(b"\\Seen" in line for line in flags(dovecot, imap_mailbox))


def test_it_stores_no_duplicate_when_flagging_fails_after_commit(dovecot, imap_mailbox):
    append(dovecot, imap_mailbox, mail(5))

    with (
        mock.patch.object(imap_module, "_mark_done", side_effect=OSError("connection reset")),
    ):
        result = mailbox_poll(mailbox_id=imap_mailbox.pk)
    assert "connection reset" in result.error
    assert all(b"\\Seen" not in line for line in flags(dovecot, imap_mailbox))

    mailbox_poll(mailbox_id=imap_mailbox.pk)  # fetches it again; dedup makes it harmless

    assert Message.objects.count() == 1 and Ticket.objects.count() == 1
    assert all(b"\\Seen" in line for line in flags(dovecot, imap_mailbox))


def test_it_flags_quarantined_mail_read_too_because_it_is_stored(dovecot, imap_mailbox):
    append(dovecot, imap_mailbox, b"From: support@helpdesk.test\r\nSubject: loop\r\n\r\nx\r\n")

    mailbox_poll(mailbox_id=imap_mailbox.pk)

    assert RawInbound.objects.get().status == RawStatus.QUARANTINED
    assert all(b"\\Seen" in line for line in flags(dovecot, imap_mailbox))


def test_it_records_a_wrong_password_on_the_mailbox(dovecot, imap_mailbox):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_password="wrong")

    result = mailbox_poll(mailbox_id=imap_mailbox.pk)

    imap_mailbox.refresh_from_db()
    assert "Could not log in" in result.error and "password" in imap_mailbox.last_error
    assert imap_mailbox.last_error_at is not None and imap_mailbox.last_success_at is None


def test_it_records_a_tls_mismatch_on_the_mailbox(dovecot, imap_mailbox):
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_security=ImapSecurity.SSL)

    result = mailbox_poll(mailbox_id=imap_mailbox.pk)

    assert "TLS" in result.error


def test_it_records_an_unreachable_server_on_the_mailbox(imap_mailbox):
    from tests.live_server import free_port

    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_port=free_port())

    result = mailbox_poll(mailbox_id=imap_mailbox.pk)

    imap_mailbox.refresh_from_db()
    assert "Could not reach" in imap_mailbox.last_error and result.fetched == 0


def test_it_polls_every_active_imap_mailbox_from_the_beat_task(dovecot, imap_mailbox):
    Mailbox.objects.create(name="Piped", address="pipe@helpdesk.test")  # no IMAP: skipped
    append(dovecot, imap_mailbox, mail(6))

    assert mailbox_poll_all_task() == 1

    assert Ticket.objects.get().subject == "Problem 6"


def test_it_schedules_the_poll_every_minute():
    from django_celery_beat.models import PeriodicTask

    from helpdesk.setup import periodic_tasks_ensure

    periodic_tasks_ensure()

    task = PeriodicTask.objects.get(task="channels_app.tasks.mailbox_poll_all_task")
    assert task.interval.every == 60 and task.interval.period == "seconds"


def test_it_drains_a_backlog_in_fetch_batches_within_one_poll(dovecot, imap_mailbox, monkeypatch):
    monkeypatch.setattr(imap_module, "FETCH_BATCH", 2)
    append(dovecot, imap_mailbox, *(mail(n) for n in range(10, 15)))
    fetches: list[int] = []
    original = imap_module._fetch_many

    def counted(client, uids):
        fetches.append(len(uids))
        return original(client, uids)

    monkeypatch.setattr(imap_module, "_fetch_many", counted)

    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 5

    assert fetches == [2, 2, 1]
    assert Ticket.objects.count() == 5
    assert all(b"\\Seen" in line for line in flags(dovecot, imap_mailbox))


def test_a_batch_holds_no_more_mail_than_its_byte_limit(dovecot, imap_mailbox, monkeypatch):
    monkeypatch.setattr(imap_module, "FETCH_BATCH_BYTES", len(mail(20)) + 10)
    append(dovecot, imap_mailbox, mail(20), mail(21), mail(22))
    fetches: list[int] = []
    original = imap_module._fetch_many
    monkeypatch.setattr(
        imap_module, "_fetch_many", lambda c, uids: fetches.append(len(uids)) or original(c, uids)
    )

    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 3

    assert fetches == [1, 1, 1]


def test_past_its_time_budget_a_poll_leaves_the_rest_for_the_next(
    dovecot, imap_mailbox, monkeypatch
):
    monkeypatch.setattr(imap_module, "FETCH_BATCH", 2)
    monkeypatch.setattr(imap_module, "POLL_SECONDS", -1)  # over budget after the first batch
    append(dovecot, imap_mailbox, *(mail(n) for n in range(30, 35)))

    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 2
    assert sum(b"\\Seen" in line for line in flags(dovecot, imap_mailbox)) == 2

    monkeypatch.setattr(imap_module, "POLL_SECONDS", 50)
    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 3
    assert Ticket.objects.count() == 5


def test_a_failure_mid_batch_marks_only_what_was_stored(dovecot, imap_mailbox):
    append(dovecot, imap_mailbox, mail(40), mail(41), mail(42))
    original = imap_module.email_receive_and_process_many

    def second_not_stored(*, payloads, source, mailbox):
        outcomes = original(payloads=payloads[:1], source=source, mailbox=mailbox)
        from channels_app.ingest_lanes import LaneOutcome

        return [*outcomes, LaneOutcome(error=OperationalError("server closed")), LaneOutcome()]

    with (
        mock.patch.object(imap_module, "email_receive_and_process_many", second_not_stored),
        pytest.raises(OperationalError),
    ):
        mailbox_poll(mailbox_id=imap_mailbox.pk)

    assert sum(b"\\Seen" in line for line in flags(dovecot, imap_mailbox)) == 1
    assert mailbox_poll(mailbox_id=imap_mailbox.pk).fetched == 2  # the rest, next poll
    assert Ticket.objects.count() == 3


class _Replies:
    """An IMAP connection's answer to one UID FETCH, as imaplib hands it over."""

    def __init__(self, status: str, data: list) -> None:
        self.client = self
        self._answer = (status, data)

    def uid(self, *args):
        return self._answer


def test_fetch_reads_bodies_whose_uid_the_server_sends_after_them():
    data = [
        (b"1 (UID 7 BODY[] {5}", b"first"),
        b")",
        (b"2 (BODY[] {6}", b"second"),
        b" UID 9)",
        (b"3 (UID 11 BODY[] {0}", b""),
        b")",
    ]

    assert imap_module._fetch_many(_Replies("OK", data), ["7", "9", "11", "12"]) == {
        "7": b"first",
        "9": b"second",
        "11": b"",
    }  # 12 was expunged meanwhile: simply missing


def test_a_refused_fetch_is_an_imap_error_not_an_empty_batch():
    from imap_tools.errors import ImapToolsError

    with pytest.raises(ImapToolsError, match="FETCH failed"):
        imap_module._fetch_many(_Replies("NO", [b"busy"]), ["7"])
    with pytest.raises(ImapToolsError, match="FETCH sizes failed"):
        imap_module._sizes(_Replies("NO", [b"busy"]), ["7"])
