"""Closed tickets past HELPDESK_RETENTION_CLOSED_MONTHS are deleted with their files."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from tests.factories import TicketFactory
from tickets.models import Attachment, Message, Status, Ticket
from tickets.retention import closed_tickets_due, closed_tickets_purge
from tickets.services import NewFile, attachment_store

pytestmark = pytest.mark.django_db


def _closed(customer: Any, *, days_ago: int, status: str = Status.CLOSED) -> Ticket:
    ticket = TicketFactory(customer=customer, status=status)
    ticket.closed_at = timezone.now() - timedelta(days=days_ago)
    ticket.save(update_fields=["closed_at"])
    message = Message.objects.create(ticket=ticket, channel="email", direction="inbound")
    attachment_store(
        message=message, file=NewFile(filename="a.txt", content_type="text/plain", content=b"x")
    )
    return ticket


def test_it_is_off_by_default(settings: Any, customer: Any) -> None:
    settings.HELPDESK_RETENTION_CLOSED_MONTHS = None
    old = _closed(customer, days_ago=3000)
    assert closed_tickets_due() == (0, 0)
    assert closed_tickets_purge() == (0, 0)
    assert Ticket.objects.filter(pk=old.pk).exists()


def test_it_deletes_only_closed_tickets_past_retention_with_their_files(
    settings: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.HELPDESK_RETENTION_CLOSED_MONTHS = 6
    due = [_closed(customer, days_ago=200), _closed(customer, days_ago=400)]
    recent = _closed(customer, days_ago=150)
    solved_long_ago = _closed(customer, days_ago=400, status=Status.SOLVED)
    files = list(Attachment.objects.filter(message__ticket__in=due).values_list("file", flat=True))
    assert closed_tickets_due() == (2, 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert closed_tickets_purge(batch_size=1) == (2, 2)  # one ticket per transaction
    assert set(Ticket.objects.values_list("pk", flat=True)) == {recent.pk, solved_long_ago.pk}
    assert not any(default_storage.exists(name) for name in files)
    assert Attachment.objects.filter(message__ticket=recent).exists()


def test_a_dry_count_changes_nothing(settings: Any, customer: Any) -> None:
    settings.HELPDESK_RETENTION_CLOSED_MONTHS = 1
    _closed(customer, days_ago=90)
    assert closed_tickets_due() == (1, 1)
    assert closed_tickets_due() == (1, 1)
    assert Ticket.objects.count() == 1
