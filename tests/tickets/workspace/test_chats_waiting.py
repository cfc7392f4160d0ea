"""The workspace header's waiting-chats counter: which chats wait, for how long, in a
fixed number of queries over an index of active chats only."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TicketFactory
from tickets.models import Channel, Direction, Message, Ticket
from tickets.workspace.chats import chats_waiting

pytestmark = pytest.mark.django_db


def chat(*, status: str = "open", messages: tuple[tuple[str, int], ...], **fields: Any) -> Ticket:
    """A chat ticket with messages (direction, minutes ago); "note" is an internal note."""
    ticket = TicketFactory(channel=Channel.CHAT, status=status, **fields)
    now = timezone.now()
    for direction, minutes_ago in messages:
        Message.objects.create(
            ticket=ticket,
            channel=Channel.CHAT,
            direction=Direction.OUTBOUND if direction == "note" else direction,
            is_internal=direction == "note",
            body_text=direction,
            created_at=now - timedelta(minutes=minutes_ago),
        )
    return ticket


def test_it_counts_chats_whose_visitor_waits_and_finds_the_longest_wait() -> None:
    # Waiting since the first message after the last reply (9 min), not the newest (1 min).
    longest = chat(messages=(("inbound", 20), ("outbound", 15), ("inbound", 9), ("inbound", 1)))
    chat(status="new", messages=(("inbound", 3),))
    chat(messages=(("inbound", 4), ("note", 2)))  # a note answers nobody: still waiting
    chat(messages=(("inbound", 30), ("outbound", 2)))  # answered
    chat(status="pending", messages=(("inbound", 40),))  # not being worked
    chat(status="solved", messages=(("inbound", 50),))
    TicketFactory(channel=Channel.EMAIL, status="open")  # not a chat
    Message.objects.create(
        ticket=TicketFactory(channel=Channel.EMAIL, status="open"),
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        body_text="mail",
        created_at=timezone.now() - timedelta(hours=3),
    )

    waiting = chats_waiting()

    assert waiting.count == 3
    assert waiting.oldest_number == longest.number
    assert 9 * 60 - 5 <= waiting.wait_seconds(now=timezone.now()) <= 9 * 60 + 5


def test_it_says_nothing_waits_in_one_query() -> None:
    chat(messages=(("inbound", 30), ("outbound", 2)))

    with CaptureQueriesContext(connection) as ctx:
        waiting = chats_waiting()

    assert (waiting.count, waiting.oldest_number, waiting.oldest_since) == (0, None, None)
    assert len(ctx.captured_queries) == 1


def test_it_counts_in_the_same_queries_however_many_chats_wait() -> None:
    chat(messages=(("inbound", 5),))
    with CaptureQueriesContext(connection) as one:
        assert chats_waiting().count == 1
    for minutes in range(40):
        chat(messages=(("inbound", minutes), ("outbound", minutes), ("inbound", minutes)))

    with CaptureQueriesContext(connection) as many:
        assert chats_waiting().count == 41

    assert len(many.captured_queries) == len(one.captured_queries) == 1


def test_it_reads_active_chats_from_their_own_index(pg: None) -> None:
    for minutes in range(30):
        chat(messages=(("inbound", minutes),))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("SET LOCAL enable_seqscan = off")
        from tickets.workspace.chats import chats_waiting_queryset

        plan = chats_waiting_queryset().explain()

    assert "ticket_chat_working" in plan


@pytest.mark.embedded
def test_it_shows_the_counter_in_the_header_of_every_agent_page(agent: Any, client: Client) -> None:
    client.force_login(agent)
    first = chat(messages=(("inbound", 3),))
    chat(messages=(("inbound", 1),))

    for url in ("/agent/", f"/agent/tickets/{first.number}/", "/agent/macros/"):
        page = client.get(url).content.decode()
        assert 'id="waiting-chats"' in page, url
        assert "2 chats waiting" in page and "3 min" in page, url
        assert f'href="/agent/tickets/{first.number}/"' in page, url


@pytest.mark.embedded
def test_it_serves_the_counter_fragment_to_agents_only(agent: Any, client: Client) -> None:
    chat(messages=(("inbound", 0),))

    assert client.get("/agent/chats/waiting/").status_code == 302  # to the login page
    client.force_login(agent)
    fragment = client.get("/agent/chats/waiting/")

    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'data-count="1"' in html and "1 chat waiting</span>" in html
    assert '<span id="waiting-chats-wait">&lt;1 min</span>' in html


@pytest.mark.embedded
def test_it_links_to_the_open_chats_when_none_waits(agent: Any, client: Client) -> None:
    client.force_login(agent)

    html = client.get("/agent/chats/waiting/").content.decode()

    assert "No chats waiting" in html and 'data-count="0"' in html
    assert 'href="/agent/?view=all&amp;channel=chat"' in html


@pytest.mark.embedded
def test_it_keeps_the_counter_off_pages_for_non_agents(client: Client) -> None:
    from django.contrib.auth import get_user_model

    chat(messages=(("inbound", 0),))
    client.force_login(get_user_model().objects.create_user(username="cust", password="pw"))

    assert client.get("/agent/chats/waiting/").status_code == 403
    assert "waiting-chats" not in client.get("/agent/login/").content.decode()
