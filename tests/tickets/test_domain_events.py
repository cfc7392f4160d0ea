"""The domain event dispatcher: phases, failures, subscriptions."""

import logging
from typing import Any

import pytest
from django.db import transaction

from tests.factories import TicketFactory
from tickets import domain_events as de
from tickets.domain_events import (
    Actor,
    FieldChange,
    MessageAdded,
    Phase,
    TicketChanged,
    TicketCreated,
    events_captured,
    publish,
    subscribe,
    unsubscribe,
)
from tickets.models import Tag


@pytest.fixture
def calls() -> Any:
    seen: list[tuple[str, Any]] = []
    handlers: list[tuple[type, Any]] = []

    def register(event_type: type, name: str, phase: Phase, fail: bool = False) -> None:
        def handler(event: Any) -> None:
            seen.append((name, event))
            if fail:
                raise RuntimeError(f"{name} broke")

        handler.__qualname__ = f"handler_{name}"
        subscribe(event_type, handler, phase=phase)
        handlers.append((event_type, handler))

    yield seen, register
    for event_type, handler in handlers:
        unsubscribe(event_type, handler)


def created(ticket_id: int = 1) -> TicketCreated:
    return TicketCreated(actor=Actor.system(), ticket_id=ticket_id, customer_id=2, channel="email")


@pytest.mark.django_db(transaction=True)
def test_it_runs_after_commit_subscribers_only_once_the_transaction_commits(calls):
    seen, register = calls
    register(TicketCreated, "live", Phase.ON_COMMIT)

    with transaction.atomic():
        publish(created())
        assert seen == []

    assert [name for name, _ in seen] == ["live"]


@pytest.mark.django_db(transaction=True)
def test_it_never_runs_after_commit_subscribers_of_a_rolled_back_change(calls):
    seen, register = calls
    register(TicketCreated, "live", Phase.ON_COMMIT)

    with pytest.raises(ValueError), transaction.atomic():
        publish(created())
        raise ValueError("the service failed later")

    assert seen == []


@pytest.mark.django_db(transaction=True)
def test_it_undoes_the_write_when_an_in_transaction_subscriber_fails(calls):
    seen, register = calls
    register(TicketCreated, "sla", Phase.IN_TRANSACTION, fail=True)

    with pytest.raises(RuntimeError, match="sla broke"), transaction.atomic():
        Tag.objects.create(name="written")
        publish(created())

    assert not Tag.objects.filter(name="written").exists()
    assert [name for name, _ in seen] == ["sla"]


@pytest.mark.django_db(transaction=True)
def test_it_logs_a_failing_after_commit_subscriber_and_runs_the_next(calls, caplog):
    seen, register = calls
    register(TicketCreated, "webhook", Phase.ON_COMMIT, fail=True)
    register(TicketCreated, "mail", Phase.ON_COMMIT)

    with caplog.at_level(logging.ERROR, logger="tickets.domain_events"), transaction.atomic():
        Tag.objects.create(name="kept")
        publish(created())

    assert [name for name, _ in seen] == ["webhook", "mail"]
    assert Tag.objects.filter(name="kept").exists()
    assert "handler_webhook failed on TicketCreated" in caplog.text


def test_it_registers_a_handler_once_however_often_ready_runs(calls):
    seen, register = calls
    register(TicketCreated, "once", Phase.IN_TRANSACTION)
    register(TicketCreated, "once", Phase.IN_TRANSACTION)

    publish(created())

    assert [name for name, _ in seen] == ["once"]


def test_it_delivers_an_event_to_subscribers_of_its_base_class_only(calls):
    seen, register = calls
    register(de.DomainEvent, "everything", Phase.IN_TRANSACTION)
    register(MessageAdded, "messages", Phase.IN_TRANSACTION)

    publish(created())

    assert [name for name, _ in seen] == ["everything"]


@pytest.mark.django_db
def test_it_refuses_a_model_where_an_id_belongs():
    ticket = TicketFactory()

    with pytest.raises(TypeError, match="ticket_id must be an id"):
        TicketCreated(actor=Actor.system(), ticket_id=ticket, customer_id=1, channel="email")


def test_it_names_what_changed():
    event = TicketChanged(
        actor=Actor(kind="agent", user_id=3),
        ticket_id=1,
        changes=(FieldChange("status", "open", "pending"), FieldChange("tags", (), ("vip",))),
    )

    assert event.changed_fields == {"status", "tags"}
    assert event.change("status") == FieldChange("status", "open", "pending")
    assert event.change("priority") is None
    with pytest.raises(AttributeError):
        event.ticket_id = 2  # frozen


def test_it_captures_what_was_published_for_tests():
    with events_captured() as captured:
        publish(created(7))

    assert [e.ticket_id for e in captured] == [7]
