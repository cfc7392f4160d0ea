import contextlib
import json
import threading

import pytest
from django.db import connection

from channels_app import registry
from channels_app.api import adapter as api_adapter
from channels_app.ingest import raw_inbound_process, raw_inbound_store
from channels_app.models import RawInbound, RawStatus
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

GOOD = json.dumps(
    {"external_id": "crm-7", "from": {"email": "dana@example.com"}, "text": "Refund please"}
).encode()


def _store(payload=GOOD, adapter="api"):
    return raw_inbound_store(
        channel="api",
        adapter=adapter,
        source="test",
        payload=payload,
        content_type="application/json",
    )


def test_it_quarantines_an_unreadable_payload_and_keeps_it(django_capture_on_commit_callbacks):
    raw = _store(b"\xff\xfe not json")

    assert raw_inbound_process(raw_id=raw.pk) is None

    raw.refresh_from_db()
    assert raw.status == RawStatus.QUARANTINED and raw.attempts == 1
    assert raw.error.startswith("ParseError: The body is not valid UTF-8 JSON")
    assert bytes(raw.payload) == b"\xff\xfe not json"
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_payload_when_processing_hits_a_database_outage(monkeypatch, pg):
    from django.db import OperationalError

    from channels_app import ingest as ingest_module

    def outage(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ingest_module, "inbound_message_ingest", outage)
    raw = _store()

    with pytest.raises(OperationalError):
        raw_inbound_process(raw_id=raw.pk)

    # Left as received for the retry (not quarantined: a retry would fix it).
    raw.refresh_from_db()
    assert raw.status == RawStatus.RECEIVED and bytes(raw.payload) == GOOD
    monkeypatch.undo()
    assert raw_inbound_process(raw_id=raw.pk) is not None
    assert Message.objects.count() == 1


def test_it_quarantines_an_adapter_bug_instead_of_losing_the_payload(monkeypatch):
    def broken(payload, meta):
        raise KeyError("headers")

    monkeypatch.setitem(registry.ADAPTERS, "broken", broken)
    raw = _store(adapter="broken")

    raw_inbound_process(raw_id=raw.pk)

    raw.refresh_from_db()
    assert raw.status == RawStatus.QUARANTINED and raw.error == "KeyError: 'headers'"


def test_it_processes_a_payload_twice_harmlessly():
    raw = _store()

    first = raw_inbound_process(raw_id=raw.pk)
    second = raw_inbound_process(raw_id=raw.pk)

    raw.refresh_from_db()
    assert first is not None and second is None
    assert raw.status == RawStatus.PROCESSED and raw.processed_at and raw.attempts == 1
    assert Message.objects.get().raw_id == raw.pk


def test_it_processes_a_payload_without_external_id_once_even_when_stored_twice_in_a_row():
    payload = json.dumps({"from": {"email": "dana@example.com"}, "text": "No id"}).encode()
    raw = _store(payload)

    raw_inbound_process(raw_id=raw.pk)
    raw_inbound_process(raw_id=raw.pk)

    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_processes_one_payload_once_when_two_workers_take_it_at_once(monkeypatch, pg):
    payload = json.dumps({"from": {"email": "dana@example.com"}, "text": "No id"}).encode()
    raw = _store(payload)
    barrier = threading.Barrier(2, timeout=10)
    real_parse = api_adapter.parse

    def slow_parse(payload, meta):
        # Only the first worker gets here at once; the second waits on the row lock.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_parse(payload, meta)

    monkeypatch.setitem(registry.ADAPTERS, "api", slow_parse)

    def work():
        try:
            raw_inbound_process(raw_id=raw.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait()  # the first worker holds the row lock and is parsing
    for thread in threads:
        thread.join(30)

    assert Message.objects.count() == 1
    assert RawInbound.objects.get().status == RawStatus.PROCESSED


def test_it_reprocesses_a_quarantined_payload_from_the_admin_once_fixed(admin_client, monkeypatch):
    # Given a payload for an adapter that was not installed when it arrived
    raw = _store(adapter="partner")
    raw_inbound_process(raw_id=raw.pk)
    raw.refresh_from_db()
    assert raw.status == RawStatus.QUARANTINED and "No adapter named “partner”" in raw.error
    changelist = "/admin/channels_app/rawinbound/"
    assert "No adapter named" in admin_client.get(f"{changelist}{raw.pk}/change/").content.decode()

    # When the adapter is installed and an admin asks to process it again
    monkeypatch.setitem(registry.ADAPTERS, "partner", api_adapter.parse)
    response = admin_client.post(
        changelist, {"action": "reprocess", "_selected_action": [raw.pk]}, follow=True
    )

    # Then it joins the history
    raw.refresh_from_db()
    assert response.status_code == 200
    assert "1 payload(s) processed." in response.content.decode()
    assert raw.status == RawStatus.PROCESSED and raw.error == "" and raw.attempts == 2
    assert Ticket.objects.get().messages.get().body_text == "Refund please"


def test_it_says_so_when_a_reprocessed_payload_is_still_unreadable(admin_client):
    raw = _store(b"{broken")
    raw_inbound_process(raw_id=raw.pk)

    response = admin_client.post(
        "/admin/channels_app/rawinbound/",
        {"action": "reprocess", "_selected_action": [raw.pk]},
        follow=True,
    )

    assert "still quarantined; the error column says why" in response.content.decode()
    raw.refresh_from_db()
    assert raw.status == RawStatus.QUARANTINED and raw.attempts == 2


def test_it_processes_a_payload_of_any_channel_left_received_after_an_outage():
    from datetime import timedelta

    from django.utils import timezone

    from channels_app.ingest import RETRY_RECEIVED_AFTER, raw_inbound_retry_stale
    from channels_app.tasks import raw_inbound_retry_stale_task

    left = _store()  # stored while the database refused the ingest, say: never processed
    fresh = _store(GOOD.replace(b"crm-7", b"crm-8"))  # a worker may still be on it
    RawInbound.objects.filter(pk=left.pk).update(
        received_at=timezone.now() - RETRY_RECEIVED_AFTER - timedelta(seconds=1)
    )

    assert raw_inbound_retry_stale_task.delay().get() == 1

    left.refresh_from_db()
    assert left.status == RawStatus.PROCESSED
    assert Message.objects.get().raw_id == left.pk
    fresh.refresh_from_db()
    assert fresh.status == RawStatus.RECEIVED
    assert raw_inbound_retry_stale() == 0  # processed once, never again
