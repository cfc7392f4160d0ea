"""The retention purge: raw payloads past HELPDESK_RETENTION_RAW_DAYS lose their content,
the command's dry run counts only, and beat runs it daily like the audit purge."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from channels_app.models import RawInbound, RawStatus
from channels_app.retention import raw_payloads_purge, retention_due, retention_purge
from helpdesk.audit.models import AuditEntry
from helpdesk.setup import PERIODIC_TASKS
from tests.factories import TicketFactory
from tickets.models import Status

pytestmark = pytest.mark.django_db


def _raw(*, days_ago: int, status: str = RawStatus.PROCESSED) -> RawInbound:
    raw = RawInbound.objects.create(
        channel="email",
        source="imap:test",
        adapter="email",
        payload=b"From: someone@example.org\r\n\r\nhello",
        meta={"recipient": "support@example.com"},
        status=status,
    )
    RawInbound.objects.filter(pk=raw.pk).update(
        received_at=timezone.now() - timedelta(days=days_ago)
    )
    return raw


def test_it_purges_processed_payloads_past_retention_and_keeps_their_record(
    settings: Any,
) -> None:
    settings.HELPDESK_RETENTION_RAW_DAYS = 30
    old, recent = _raw(days_ago=31), _raw(days_ago=29)
    quarantined = _raw(days_ago=90, status=RawStatus.QUARANTINED)
    assert raw_payloads_purge(batch_size=1) == 1
    old.refresh_from_db()
    assert bytes(old.payload) == b"" and old.meta == {} and old.purged_at is not None
    assert (old.channel, old.source, old.status) == ("email", "imap:test", RawStatus.PROCESSED)
    for kept in (recent, quarantined):
        kept.refresh_from_db()
        assert bytes(kept.payload) and kept.purged_at is None
    assert raw_payloads_purge() == 0  # a purged row is not due again


def test_it_is_off_by_default(settings: Any) -> None:
    settings.HELPDESK_RETENTION_RAW_DAYS = None
    _raw(days_ago=5000)
    assert raw_payloads_purge() == 0
    assert retention_due().raw_payloads == 0


def test_the_purge_reports_and_records_what_it_removed(settings: Any, customer: Any) -> None:
    settings.HELPDESK_RETENTION_RAW_DAYS = 30
    settings.HELPDESK_RETENTION_CLOSED_MONTHS = 1
    _raw(days_ago=40)
    ticket = TicketFactory(customer=customer, status=Status.CLOSED)
    ticket.closed_at = timezone.now() - timedelta(days=31)
    ticket.save(update_fields=["closed_at"])
    report = retention_purge()
    assert (report.raw_payloads, report.tickets) == (1, 1)
    entry = AuditEntry.objects.get(action="retention.purge")
    assert entry.data == {"raw_payloads": 1, "tickets": 1, "attachments": 0}
    assert retention_purge().anything is False
    assert AuditEntry.objects.filter(action="retention.purge").count() == 1


def test_the_dry_run_prints_counts_and_changes_nothing(settings: Any) -> None:
    settings.HELPDESK_RETENTION_RAW_DAYS = 7
    settings.HELPDESK_RETENTION_CLOSED_MONTHS = None
    raw = _raw(days_ago=8)
    stdout = io.StringIO()
    call_command("retention_purge", "--dry-run", stdout=stdout)
    assert "raw payloads 7 days, closed tickets off" in stdout.getvalue()
    assert "Would purge: 1 raw payloads, 0 closed tickets" in stdout.getvalue()
    raw.refresh_from_db()
    assert bytes(raw.payload) and raw.purged_at is None
    call_command("retention_purge", stdout=stdout)
    raw.refresh_from_db()
    assert raw.purged_at is not None and "Purged: 1 raw payloads" in stdout.getvalue()


def test_beat_runs_it_daily_like_the_audit_purge() -> None:
    from django_celery_beat.models import PeriodicTask

    from helpdesk.setup import periodic_tasks_ensure

    assert PERIODIC_TASKS["Purge data past retention"] == (
        "channels_app.tasks.retention_purge_task",
        PERIODIC_TASKS["Purge old audit entries"][1],
    )
    periodic_tasks_ensure()
    task = PeriodicTask.objects.get(name="Purge data past retention")
    assert task.interval.every == 86400


def test_the_task_runs_the_purge(settings: Any) -> None:
    from channels_app.tasks import retention_purge_task

    settings.HELPDESK_RETENTION_RAW_DAYS = 1
    _raw(days_ago=2)
    assert retention_purge_task.delay().get()["raw_payloads"] == 1


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_a_bad_setting_fails_loudly(value: str, monkeypatch: Any) -> None:
    import environ

    from helpdesk.settings import _retention

    monkeypatch.setenv("HELPDESK_RETENTION_RAW_DAYS", value)
    with pytest.raises(environ.ImproperlyConfigured, match="HELPDESK_RETENTION_RAW_DAYS"):
        _retention("HELPDESK_RETENTION_RAW_DAYS")


def test_a_deleted_closed_tickets_payloads_go_too_whatever_their_age(
    settings: Any, customer: Any
) -> None:
    from tickets.models import Message

    settings.HELPDESK_RETENTION_RAW_DAYS = None
    settings.HELPDESK_RETENTION_CLOSED_MONTHS = 1
    raw = _raw(days_ago=0)
    kept = _raw(days_ago=0)
    ticket = TicketFactory(customer=customer, status=Status.CLOSED)
    ticket.closed_at = timezone.now() - timedelta(days=45)
    ticket.save(update_fields=["closed_at"])
    Message.objects.create(ticket=ticket, channel="email", direction="inbound", raw=raw)
    open_ticket = TicketFactory(customer=customer)
    Message.objects.create(ticket=open_ticket, channel="email", direction="inbound", raw=kept)
    assert retention_due().raw_payloads == 1
    report = retention_purge()
    assert (report.raw_payloads, report.tickets) == (1, 1)
    raw.refresh_from_db()
    kept.refresh_from_db()
    assert bytes(raw.payload) == b"" and raw.purged_at is not None
    assert bytes(kept.payload) and kept.purged_at is None
