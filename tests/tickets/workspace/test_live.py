"""Live updates: which hint each ticket change sends to which agent pages, after commit."""

import asyncio
import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.factories import CustomerFactory, IdentityFactory, TeamFactory
from tickets.domain_events import Phase, TicketChanged, subscribe, unsubscribe
from tickets.events import events_flush
from tickets.models import Status
from tickets.services import (
    customer_merge,
    message_reply,
    ticket_assign,
    ticket_followers_add,
    ticket_followers_remove,
    ticket_merge,
    ticket_set_status,
    ticket_set_team,
    ticket_tags_change,
)
from tickets.workspace import live

pytestmark = pytest.mark.django_db


@pytest.fixture
def hints(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, list[str]]]:
    """Every hint the subscribers send, as (kind, ticket id, groups); still sent for real."""
    sent: list[tuple[str, int, list[str]]] = []
    real = live.hint_send

    def spy(groups: list[str], payload: dict[str, Any]) -> None:
        sent.append((payload["kind"], payload["ticket_id"], groups))
        real(groups, payload)

    monkeypatch.setattr(live, "hint_send", spy)
    return sent


def test_it_announces_a_new_ticket_once_and_later_messages_as_messages(
    ingest, hints, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(external_id="m-1", rfc_message_id="<first@mail.example>")
    ticket = first.ticket
    assert hints == [("created", ticket.pk, [f"ticket.{ticket.pk}", "queue.noteam"])]

    hints.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest(external_id="m-2", text="Any news?", thread_hints=("<first@mail.example>",))
    assert hints == [("message", ticket.pk, [f"ticket.{ticket.pk}", "queue.noteam"])]


def test_it_sends_nothing_before_the_commit(
    ticket, agent, hints, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent)
    assert callbacks and hints == []

    for callback in callbacks:
        callback()
    assert [kind for kind, _, _ in hints] == ["status"]


def test_it_tells_the_queues_a_ticket_left_and_joined(
    ticket, agent, other_agent, lead, hints, django_capture_on_commit_callbacks
):
    old, new = TeamFactory(), TeamFactory()
    ticket_set_team(ticket=ticket, team=old, actor=agent)
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    hints.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_team(ticket=ticket, team=new, actor=agent)
        ticket_assign(ticket=ticket, agent=other_agent, actor=lead)  # a lead reassigns

    page = f"ticket.{ticket.pk}"
    assert hints == [
        ("team", ticket.pk, [page, f"queue.team.{new.pk}", f"queue.team.{old.pk}",
                             f"queue.agent.{agent.pk}"]),
        ("assigned", ticket.pk, [page, f"queue.team.{new.pk}", f"queue.agent.{other_agent.pk}",
                                 f"queue.agent.{agent.pk}"]),
    ]  # fmt: skip


def test_it_tells_the_pages_of_tags_followers_and_replies(
    ticket, agent, hints, django_capture_on_commit_callbacks
):
    follower = IdentityFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_tags_change(ticket=ticket, add=["vip"], actor=agent)
        ticket_followers_add(ticket=ticket, identities=[follower], actor=agent)
        ticket_followers_remove(ticket=ticket, identity_ids=[follower.pk], actor=agent)
        message_reply(ticket=ticket, author=agent, body_text="On it.")

    # The reply opens the new ticket and, unclaimed, gives it to its author.
    assert [kind for kind, _, _ in hints] == [
        "tags", "followers", "followers", "message", "assigned", "status",
    ]  # fmt: skip
    assert hints[-1][2] == [f"ticket.{ticket.pk}", "queue.noteam", f"queue.agent.{agent.pk}"]


def test_it_tells_both_tickets_of_a_merge(ingest, agent, hints, django_capture_on_commit_callbacks):
    team = TeamFactory()
    source = ingest(external_id="m-1", subject="One").ticket
    target = ingest(external_id="m-2", subject="Two", sender="eli@example.com").ticket
    ticket_set_team(ticket=target, team=team, actor=agent)
    hints.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ticket_merge(source=source, target=target, actor=agent)

    merged = [(t, groups) for kind, t, groups in hints if kind == "merged"]
    assert sorted(merged) == sorted([
        (source.pk, [f"ticket.{source.pk}", "queue.noteam"]),
        (target.pk, [f"ticket.{target.pk}", f"queue.team.{team.pk}"]),
    ])  # fmt: skip


def test_it_tells_the_pages_of_every_ticket_a_customer_merge_moved(
    ingest, agent, hints, django_capture_on_commit_callbacks
):
    moved = ingest(external_id="m-1", sender="old@example.com").ticket
    team = TeamFactory()
    ticket_set_team(ticket=moved, team=team, actor=agent)
    target = CustomerFactory()
    hints.clear()

    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(source=moved.customer, target=target, actor=agent)

    assert hints == [("customer_merged", moved.pk, [f"ticket.{moved.pk}", f"queue.team.{team.pk}"])]


def test_a_failing_broadcast_is_logged_and_neither_the_write_nor_the_next_subscriber_suffer(
    ticket, agent, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(groups: list[str], payload: dict[str, Any]) -> None:
        raise ConnectionError("channel layer gone")

    monkeypatch.setattr(live, "hint_send", broken)
    after: list[TicketChanged] = []

    def next_subscriber(event: TicketChanged) -> None:
        after.append(event)

    subscribe(TicketChanged, next_subscriber, phase=Phase.ON_COMMIT)
    try:
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent)
    finally:
        unsubscribe(TicketChanged, next_subscriber)

    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert [e.ticket_id for e in after] == [ticket.pk]
    assert "ticket_changed_broadcast failed on TicketChanged" in caplog.text


def test_an_agent_page_receives_the_hint_through_the_channel_layer(
    ticket, agent, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    page = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"ticket.{ticket.pk}", page)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent)
    assert events_flush(timeout=10)

    async def receive() -> Any:
        return await asyncio.wait_for(layer.receive(page), timeout=5)

    message = async_to_sync(receive)()
    assert message == {
        "type": "helpdesk.event",
        "payload": {"kind": "status", "ticket_id": ticket.pk},
    }


def test_it_tells_the_pages_of_an_erased_customers_tickets(
    ingest, agent, admin_user, hints, django_capture_on_commit_callbacks
):
    from tickets.privacy import customer_erase

    kept = ingest(external_id="m-1", sender="gone@example.com").ticket
    ticket_assign(ticket=kept, agent=agent, actor=agent)
    hints.clear()

    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(kept.customer, actor=admin_user)

    assert hints == [
        ("customer_erased", kept.pk,
         [f"ticket.{kept.pk}", "queue.noteam", f"queue.agent.{agent.pk}"]),
    ]  # fmt: skip
