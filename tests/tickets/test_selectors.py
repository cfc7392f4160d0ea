from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory, TicketFactory
from tickets.models import Message, Status, Tag, Ticket, TicketEvent
from tickets.selectors import (
    InvalidCursor,
    TicketFilters,
    message_preview,
    ticket_list,
    ticket_timeline,
)
from tickets.services import message_reply, note_add, ticket_tags_change

pytestmark = pytest.mark.django_db


def _tickets(count, **fields):
    team = fields.pop("team", None) or TeamFactory()
    tag, _ = Tag.objects.get_or_create(name="vip")
    made = []
    for _ in range(count):
        ticket = TicketFactory(team=team, customer=CustomerFactory(), **fields)
        ticket.tags.add(tag)
        Message.objects.create(
            ticket=ticket, channel="email", direction="inbound", body_text="Where is my order?"
        )
        made.append(ticket)
    return made


def _count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_it_lists_tickets_in_the_same_number_of_queries_for_1_and_50(agent):
    _tickets(1, assignee=agent)
    one = _count_queries(lambda: [t.customer.name for t in ticket_list().items])
    _tickets(49, assignee=agent)

    def render_all():
        page = ticket_list(limit=50)
        assert len(page.items) == 50
        for t in page.items:
            (t.customer.name, t.assignee.username, t.team.name, [g.name for g in t.tags.all()])
            assert message_preview(t.last_message_text) == "Where is my order?"

    fifty = _count_queries(render_all)

    assert one == fifty == 2


def test_it_pages_by_keyset_without_duplicates_or_gaps_across_equal_times():
    stamp = timezone.now()
    made = _tickets(23)
    # Ties on updated_at are what break naive cursors: most rows share one time.
    Ticket.objects.filter(pk__in=[t.pk for t in made[:15]]).update(updated_at=stamp)
    Ticket.objects.filter(pk__in=[t.pk for t in made[15:]]).update(
        updated_at=stamp - timedelta(minutes=1)
    )

    seen, cursor, pages = [], None, 0
    while True:
        page = ticket_list(cursor=cursor, limit=4)
        seen += [t.pk for t in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    expected = list(Ticket.objects.order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert seen == expected and len(set(seen)) == 23
    assert pages == 6


def test_it_keeps_a_page_stable_when_a_listed_ticket_is_updated_meanwhile():
    made = _tickets(6)
    first = ticket_list(limit=3)
    # The newest ticket moves to the top again; the next page must not repeat others.
    Ticket.objects.filter(pk=made[0].pk).update(updated_at=timezone.now() + timedelta(hours=1))

    second = ticket_list(cursor=first.next_cursor, limit=3)

    assert not {t.pk for t in first.items} & {t.pk for t in second.items}


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "!!!", "", "MjAyNi0wMS0wMVQwMDowMDowMA", "bm90LWEtY3Vyc29y"],
)
def test_it_rejects_an_invalid_cursor_with_a_clear_error(cursor):
    _tickets(1)

    if cursor == "":
        assert ticket_list(cursor=cursor).items  # no cursor: the first page
        return
    with pytest.raises(InvalidCursor, match="no longer valid"):
        ticket_list(cursor=cursor)


def test_it_rejects_a_cursor_with_a_naive_time_or_a_huge_id():
    import base64

    for raw in ("2026-01-01T00:00:00|5", "2026-01-01T00:00:00+00:00|99999999999999999999"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode()
        with pytest.raises(InvalidCursor):
            ticket_list(cursor=cursor)


def test_it_filters_by_status_team_assignee_and_tag(agent):
    team = TeamFactory()
    mine = _tickets(2, assignee=agent, team=team, status=Status.OPEN)
    _tickets(2, status=Status.SOLVED)
    ticket_tags_change(ticket=mine[0], actor=agent, add=["refund"])

    def pks(**filters):
        return {t.pk for t in ticket_list(filters=TicketFilters(**filters)).items}

    assert pks(status=[Status.OPEN]) == {t.pk for t in mine}
    assert pks(team_id=team.pk, assignee_id=agent.pk) == {t.pk for t in mine}
    assert pks(tag="refund") == {mine[0].pk}
    assert len(pks(unassigned=True)) == 2


def test_it_builds_the_timeline_in_constant_queries_and_time_order(ingest, agent):
    ticket = ingest(external_id="0").ticket

    def timeline_queries():
        return _count_queries(
            lambda: [
                (
                    i.author_user,
                    i.author_identity,
                    list(i.attachments.all()),
                    list(i.deliveries.all()),
                )
                if isinstance(i, Message)
                else i.actor
                for i in ticket_timeline(ticket=ticket)
            ]
        )

    few = timeline_queries()
    for n in range(8):
        message_reply(ticket=ticket, author=agent, body_text=f"reply {n}")
        note_add(ticket=ticket, author=agent, body_text=f"note {n}")
        ingest(external_id=f"in-{n}", ticket_reference=str(ticket.number))
    many = timeline_queries()

    items = ticket_timeline(ticket=ticket)
    assert few == many == 4
    assert [i.created_at for i in items] == sorted(i.created_at for i in items)
    assert sum(isinstance(i, Message) for i in items) == 25
    assert any(isinstance(i, TicketEvent) for i in items)


def test_it_starts_the_next_page_at_the_cursor_in_the_index(pg):
    # Regression: with only `updated_at < x OR (updated_at = x AND id < y)` PostgreSQL
    # walked the index from the top and discarded every row of the earlier pages.
    customer = CustomerFactory()
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            subject="t",
            channel="email",
            customer=customer,
            reply_token=f"tok{i}",
            updated_at=now - timedelta(seconds=i // 3),
        )
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    cursor_token = ticket_list(limit=50).next_cursor
    with CaptureQueriesContext(connection) as ctx:
        ticket_list(cursor=cursor_token, limit=50)

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ctx.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Cond: (updated_at <=" in plan, plan
