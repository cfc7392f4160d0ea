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


@pytest.fixture(autouse=True)
def _only_these_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The dispatcher's own behaviour: the apps' subscribers (automation rules, mail)
    # would read the database for events these tests make up. Set aside with monkeypatch,
    # whose undo runs in order with the `calls` fixture's: clearing and refilling the
    # dicts by hand restored them into the wrong object and lost every app subscriber
    # for the rest of the run.
    monkeypatch.setattr(de, "_subscriptions", {})
    monkeypatch.setattr(de, "_by_type", {})


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The dispatcher on its own: the apps' subscribers (live updates, the outbox) are set
    aside, so these tests need no database or channel layer."""
    monkeypatch.setattr(de, "_subscriptions", {})
    monkeypatch.setattr(de, "_by_type", {})
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


def test_it_captures_what_was_published_for_tests(calls):
    with events_captured() as captured:
        publish(created(7))

    assert [e.ticket_id for e in captured] == [7]


# --- what the services publish ----------------------------------------------------------


@pytest.mark.django_db
def test_it_publishes_a_customers_new_ticket_and_message_as_theirs(make_inbound):
    from channels_app.ingest import inbound_message_ingest

    with events_captured() as captured:
        result = inbound_message_ingest(message=make_inbound(external_id="e-1"))

    created, added = captured
    assert isinstance(created, TicketCreated) and isinstance(added, MessageAdded)
    assert created.ticket_id == added.ticket_id == result.ticket.pk
    assert created.channel == "email" and created.customer_id == result.ticket.customer_id
    assert created.actor.kind == added.actor.kind == "customer"
    assert added.actor.identity_id == result.message.author_identity_id
    assert (added.message_id, added.direction, added.is_internal) == (
        result.message.pk,
        "inbound",
        False,
    )


@pytest.mark.django_db
def test_it_publishes_each_field_change_with_before_and_after(agent, make_inbound):
    from tests.factories import TeamFactory
    from tickets.services import (
        ticket_assign,
        ticket_set_priority,
        ticket_set_status,
        ticket_set_subject,
        ticket_set_team,
        ticket_tags_change,
    )

    ticket = _ingested(make_inbound)
    team = TeamFactory()
    with events_captured() as captured:
        ticket_set_status(ticket=ticket, status="pending", actor=agent)
        ticket_set_priority(ticket=ticket, priority="high", actor=agent)
        ticket_assign(ticket=ticket, agent=agent, actor=None)
        ticket_set_team(ticket=ticket, team=team, actor=agent)
        ticket_set_subject(ticket=ticket, subject="Lost parcel", actor=agent)
        ticket_tags_change(ticket=ticket, add=["vip", "late"], remove=[], actor=agent)

    changes = [(e.changes[0].field, e.changes[0].before, e.changes[0].after) for e in captured]
    assert changes == [
        ("status", "new", "pending"),
        ("priority", "normal", "high"),
        ("assignee", None, agent.pk),
        ("team", None, team.pk),
        ("subject", "My order never arrived", "Lost parcel"),
        ("tags", (), ("late", "vip")),
    ]
    assert [e.actor.kind for e in captured] == [
        "agent",
        "agent",
        "system",
        "agent",
        "agent",
        "agent",
    ]
    assert all(isinstance(e, TicketChanged) and e.ticket_id == ticket.pk for e in captured)


@pytest.mark.django_db
def test_it_publishes_an_agents_reply_and_note(agent, make_inbound):
    from tickets.services import message_reply, note_add

    ticket = _ingested(make_inbound)
    with events_captured() as captured:
        reply = message_reply(ticket=ticket, author=agent, body_text="On its way.")
        note = note_add(ticket=ticket, author=agent, body_text="Checked the courier.")

    added = [e for e in captured if isinstance(e, MessageAdded)]
    assert [(e.message_id, e.direction, e.is_internal, e.channel) for e in added] == [
        (reply.pk, "outbound", False, "email"),
        (note.pk, "outbound", True, "email"),
    ]
    assert added[0].actor == Actor(kind="agent", user_id=agent.pk)


@pytest.mark.django_db
def test_it_publishes_merges_of_tickets_and_customers(agent, make_inbound):
    from tests.factories import CustomerFactory
    from tickets.domain_events import CustomerMerged, TicketMerged
    from tickets.services import customer_merge, ticket_merge

    first = _ingested(make_inbound, external_id="m1")
    second = _ingested(make_inbound, external_id="m2", subject="Two")
    other = CustomerFactory()
    with events_captured() as captured:
        ticket_merge(source=first, target=second, actor=agent)
        customer_merge(source=other, target=second.customer, actor=agent)

    merged = [e for e in captured if isinstance(e, TicketMerged | CustomerMerged)]
    assert merged == [
        TicketMerged(
            actor=merged[0].actor, at=merged[0].at, source_ticket_id=first.pk,
            target_ticket_id=second.pk,
        ),
        CustomerMerged(
            actor=merged[1].actor, at=merged[1].at, source_customer_id=other.pk,
            target_customer_id=second.customer_id,
        ),
    ]  # fmt: skip


@pytest.mark.django_db
def test_it_publishes_a_rating(make_inbound, agent):
    from tickets.domain_events import SatisfactionRated
    from tickets.portal.services import satisfaction_rating_submit
    from tickets.services import ticket_set_status

    ticket = _ingested(make_inbound)
    ticket_set_status(ticket=ticket, status="solved", actor=agent)
    with events_captured() as captured:
        rating = satisfaction_rating_submit(ticket=ticket, customer_id=ticket.customer_id, score=4)

    assert captured == [
        SatisfactionRated(
            actor=Actor(kind="customer"), at=rating.updated_at, ticket_id=ticket.pk,
            rating_id=rating.pk, score=4,
        )
    ]  # fmt: skip


def _ingested(make_inbound, **kwargs):
    from channels_app.ingest import inbound_message_ingest

    kwargs.setdefault("external_id", "e-1")
    return inbound_message_ingest(message=make_inbound(**kwargs)).ticket
