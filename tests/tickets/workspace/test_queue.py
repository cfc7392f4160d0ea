"""Queue views, filters, sorts with keyset pagination, search, unread marks, bulk actions."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CustomerFactory, IdentityFactory, TeamFactory, TicketFactory
from tickets.models import Channel, IdentityKind, Message, SlaRecord, Tag, Ticket, TicketEvent
from tickets.selectors import InvalidCursor, TicketFilters, ticket_list
from tickets.workspace.selectors import agent_team_ids, queue_counts, queue_view_filters

pytestmark = pytest.mark.django_db


def _numbers(response: Any) -> list[int]:
    return [t.number for t in response.context["page"].items]


def _view(agent: Any, view: str, **base: Any) -> list[Ticket]:
    filters = queue_view_filters(
        view=view,
        user=agent,
        team_ids=agent_team_ids(user=agent),
        base=TicketFilters(**base),
        now=timezone.now(),
    )
    return list(ticket_list(filters=filters, limit=100).items)


def test_it_puts_tickets_in_the_built_in_views_and_counts_them(
    agent: Any, other_agent: Any
) -> None:
    team, other_team = TeamFactory(), TeamFactory()
    team.members.add(agent)
    new = TicketFactory(status="new")
    mine = TicketFactory(status="open", assignee=agent)
    theirs = TicketFactory(status="open", assignee=other_agent, team=other_team)
    teamed = TicketFactory(status="pending", team=team)
    held = TicketFactory(status="on_hold")
    solved = TicketFactory(status="solved", solved_at=timezone.now())
    TicketFactory(status="solved", solved_at=timezone.now() - timedelta(days=30))
    TicketFactory(status="closed")
    now = timezone.now()
    late = TicketFactory(
        status="open",
        assignee=other_agent,
        team=other_team,
        sla_next_due_at=now - timedelta(hours=1),
    )
    SlaRecord.objects.create(
        ticket=late,
        kind="first_response",
        priority="normal",
        target_minutes=60,
        state="running",
        started_at=now - timedelta(hours=2),
        due_at=now - timedelta(hours=1),
        breached_at=now - timedelta(hours=1),
    )
    expect = {
        "unassigned": {new},
        "mine": {mine},
        "teams": {teamed},
        "open": {new, mine, theirs, late},
        "pending": {teamed},
        "on_hold": {held},
        "solved": {solved},
        "at_risk": {late},
    }
    for view, tickets in expect.items():
        assert set(_view(agent, view)) == tickets, view
    with CaptureQueriesContext(connection) as ctx:
        counts = queue_counts(user=agent, team_ids=[team.pk])
    assert counts == {view: len(tickets) for view, tickets in expect.items()}
    assert len(ctx.captured_queries) == 1  # every view's capped count in one statement
    # An agent in no team: "My teams" cannot match and is 0 without asking.
    assert queue_counts(user=agent, team_ids=[])["teams"] == 0


def test_it_filters_by_every_field(agent: Any, agent_client: Client) -> None:
    team = TeamFactory()
    customer = CustomerFactory()
    hit = TicketFactory(
        status="open",
        priority="high",
        channel=Channel.SMS,
        assignee=agent,
        team=team,
        customer=customer,
    )
    hit.tags.add(Tag.objects.create(name="vip"))
    TicketFactory(status="open", priority="high", channel=Channel.SMS, assignee=agent, team=team)
    TicketFactory(status="open", priority="low", channel=Channel.EMAIL)
    params = {
        "view": "open",
        "status": "open",
        "priority": "high",
        "channel": "sms",
        "assignee": agent.pk,
        "team": team.pk,
        "tag": "vip",
        "customer": customer.pk,
        "created_after": timezone.now().date().isoformat(),
        "created_before": timezone.now().date().isoformat(),
    }
    assert _numbers(agent_client.get("/agent/", params)) == [hit.number]
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert _numbers(agent_client.get("/agent/", {**params, "created_before": yesterday})) == []
    unassigned = agent_client.get("/agent/", {"view": "open", "assignee": "none"})
    assert _numbers(unassigned) == [Ticket.objects.get(priority="low").number]


def test_it_narrows_a_view_by_status_without_escaping_it(agent: Any) -> None:
    TicketFactory(status="pending", assignee=agent)
    assert _view(agent, "open", status=["pending"]) == []


def test_it_reports_bad_filter_input_and_still_shows_the_page(agent_client: Client) -> None:
    response = agent_client.get("/agent/", {"assignee": "bob", "created_after": "not-a-date"})
    assert response.status_code == 400  # the client's error, said on the page it still gets
    assert b"Pick an agent from the list" in response.content


@pytest.mark.parametrize("sort", ["updated", "priority", "created"])
def test_it_pages_through_every_sort_without_gaps_or_repeats(sort: str) -> None:
    now = timezone.now()
    tickets = []
    for i in range(23):
        # Shared timestamps and priorities force the id tiebreaker to do its job.
        stamp = now - timedelta(minutes=i // 3)
        tickets.append(
            TicketFactory(
                status="open",
                priority=["low", "normal", "high", "urgent"][i % 4],
                updated_at=stamp,
                created_at=stamp,
            )
        )
    seen: list[int] = []
    cursor = None
    while True:
        page = ticket_list(
            filters=TicketFilters(status=["open"]), cursor=cursor, limit=5, sort=sort
        )
        seen.extend(t.pk for t in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    everything = ticket_list(filters=TicketFilters(status=["open"]), limit=100, sort=sort)
    assert seen == [t.pk for t in everything.items]
    assert sorted(seen) == sorted(t.pk for t in tickets)
    if sort == "priority":
        ranks = [t.priority for t in everything.items]
        assert ranks[:6] == ["urgent"] * 6 or ranks[0] == "urgent"
        assert ranks[-1] == "low"


def test_it_rejects_a_tampered_cursor_with_a_clear_message(agent_client: Client) -> None:
    with pytest.raises(InvalidCursor):
        ticket_list(cursor="bm9wZQ", sort="priority")
    response = agent_client.get("/agent/", {"cursor": "garbage!!", "sort": "created"})
    assert response.status_code == 200
    assert b"no longer valid" in response.content


def test_it_finds_tickets_by_number_email_phone_and_words(
    agent_client: Client, make_ticket: Any
) -> None:
    by_words = make_ticket(subject="Printer jammed", body="The paper keeps jamming in tray two")
    other = CustomerFactory(name="Pat")
    IdentityFactory(customer=other, kind=IdentityKind.PHONE, value="+14155550123")
    IdentityFactory(customer=other, kind=IdentityKind.EMAIL, value="pat@example.org")
    by_contact = TicketFactory(customer=other, status="open")
    TicketFactory(subject="Unrelated", status="open")

    def search(q: str) -> list[int]:
        return _numbers(agent_client.get("/agent/", {"view": "open", "q": q}))

    assert search(f"#{by_contact.number}") == [by_contact.number]
    assert search("PAT@example.org") == [by_contact.number]
    assert search("(415) 555-0123") == [by_contact.number]
    assert search("printers") == [by_words.number]  # stemmed, in the subject
    assert search("tray jam") == [by_words.number]  # stemmed, in a message body
    assert search("nothing-like-this") == []


def test_it_marks_tickets_unread_until_the_agent_opens_them(
    agent_client: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(status="open")
    row = agent_client.get("/agent/").context["rows"][0]
    assert row.unread is True
    agent_client.get(f"/agent/tickets/{ticket.number}/")
    assert agent_client.get("/agent/").context["rows"][0].unread is False
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() + timedelta(seconds=1))
    assert agent_client.get("/agent/").context["rows"][0].unread is True


def test_it_shows_row_details(agent_client: Client, make_ticket: Any, agent: Any) -> None:
    ticket = make_ticket(status="open", assignee=agent, body="Latest words from Dana")
    html = agent_client.get("/agent/").content.decode()
    assert f"#{ticket.number}" in html
    assert "Latest words from Dana" in html
    assert 'class="ch ch-email"' in html
    assert "unread-dot" in html


def test_it_applies_bulk_actions_through_services(
    agent_client: Client, agent: Any, make_ticket: Any
) -> None:
    a, b = make_ticket(status="open"), make_ticket(status="open")
    ids = [a.pk, b.pk]
    for action, extra in [
        ("assign", {"assignee": agent.pk}),
        ("status", {"status": "pending"}),
        ("priority", {"priority": "urgent"}),
        ("tag", {"tag": "billing"}),
    ]:
        response = agent_client.post("/agent/bulk/", {"ids": ids, "action": action, **extra})
        assert response.status_code == 302
    for ticket in (a, b):
        ticket.refresh_from_db()
        assert (ticket.assignee, ticket.status, ticket.priority) == (agent, "pending", "urgent")
        assert list(ticket.tags.values_list("name", flat=True)) == ["billing"]
    assert TicketEvent.objects.filter(ticket=a).count() == 4
    agent_client.post("/agent/bulk/", {"ids": ids, "action": "merge", "merge_into": ""})
    b.refresh_from_db()
    assert b.merged_into == a
    assert Message.objects.filter(ticket=a).count() == 2


def test_it_reports_bulk_failures_per_ticket(agent_client: Client, make_ticket: Any) -> None:
    closed, fine = make_ticket(status="closed"), make_ticket(status="open")
    response = agent_client.post(
        "/agent/bulk/",
        {"ids": [closed.pk, fine.pk], "action": "status", "status": "solved"},
        follow=True,
    )
    text = response.content.decode()
    assert "Updated 1 ticket(s)." in text
    assert f"#{closed.number}: A closed ticket cannot change status" in text
    assert agent_client.post("/agent/bulk/", {"action": "status"}).status_code == 302


def test_it_searches_every_status_from_the_all_view(agent_client: Client, make_ticket: Any) -> None:
    closed = make_ticket(subject="Ancient printer saga", status="closed")
    response = agent_client.get("/agent/", {"view": "all", "q": "printer"})
    assert _numbers(response) == [closed.number]
    assert _numbers(agent_client.get("/agent/", {"view": "open", "q": "printer"})) == []


def test_it_caps_big_counts(agent: Any, settings: Any, monkeypatch: Any) -> None:
    from tickets.workspace import selectors as agent_selectors

    monkeypatch.setattr(agent_selectors, "COUNT_CAP", 3)
    for _ in range(4):
        TicketFactory(status="open")
    counts = queue_counts(user=agent, team_ids=[])
    assert counts["open"] == 3
    assert counts["unassigned"] == 3  # every view is capped, not only the first
    assert agent_selectors.count_label(counts["open"]) == "3+"
    assert agent_selectors.count_label(2) == "2"


def test_a_queue_row_shows_every_field_escaped(agent: Any, agent_client: Client) -> None:
    team = TeamFactory(name="Billing & Co")
    customer = CustomerFactory(name="Ann <Admin>")
    ticket = TicketFactory(
        subject="<script>alert(1)</script> refund",
        status="pending",
        priority="urgent",
        channel=Channel.SMS,
        assignee=agent,
        team=team,
        customer=customer,
    )
    ticket.tags.add(Tag.objects.create(name="vip"))
    Message.objects.create(
        ticket=ticket,
        channel=Channel.SMS,
        direction="outbound",
        body_text="We   sent\nit <today>",
    )
    html = agent_client.get("/agent/", {"view": "pending"}).content.decode()
    row = html[html.index(f'data-ticket-id="{ticket.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<script>" not in row
    assert "&lt;script&gt;alert(1)&lt;/script&gt; refund" in row
    # The link carries the view it was opened from (the ticket page's "next ticket").
    assert f'href="/agent/tickets/{ticket.number}/?from=view%3Dpending"' in row
    assert '<span class="preview muted">↩ We sent it &lt;today&gt;</span>' in row
    assert 'title="&lt;script&gt;alert(1)&lt;/script&gt; refund — We sent it &lt;today&gt;"' in row
    assert '<span class="tag">vip</span>' in row
    assert '<td class="customer-cell" title="Ann &lt;Admin&gt;">Ann &lt;Admin&gt;</td>' in row
    assert '<span class="badge badge-pending">Pending</span>' in row
    assert '<span class="prio prio-urgent">Urgent</span>' in row
    assert '<span class="ch ch-sms"' in row
    assert f'title="{agent.first_name} · Billing &amp; Co">{agent.first_name}' in row
    assert 'class="unread-dot"' in row  # the agent never opened it
    agent_client.get(f"/agent/tickets/{ticket.number}/")
    html = agent_client.get("/agent/", {"view": "pending"}).content.decode()
    row = html[html.index(f'data-ticket-id="{ticket.pk}"') :]
    assert 'class="unread-dot"' not in row[: row.index("</tr>")]


def _clock(ticket: Ticket, due: Any, **fields: Any) -> None:
    SlaRecord.objects.create(
        ticket=ticket,
        kind=fields.pop("kind", "first_response"),
        priority="normal",
        target_minutes=60,
        started_at=due - timedelta(hours=1),
        due_at=due,
        **{"state": "running", **fields},
    )


def test_sla_at_risk_is_past_due_or_warned_or_breached_and_counted_so(
    agent: Any, monkeypatch: Any
) -> None:
    """The at-risk view and count read past-due tickets from the ticket's own due time
    and the others from warned or breached running clocks: every case, and the cap."""
    from tickets.workspace import selectors as agent_selectors

    now = timezone.now()
    soon, later, past = now + timedelta(minutes=10), now + timedelta(hours=5), now - timedelta(1)

    def ticket(due: Any, status: str = "open") -> Ticket:
        return TicketFactory(status=status, sla_next_due_at=due)

    overdue = ticket(past)
    _clock(overdue, past)  # past due, the timer has not marked it yet
    warned = ticket(soon)
    _clock(warned, soon, warned_at=now - timedelta(minutes=2))
    _clock(warned, later, kind="resolution", warned_at=now)  # two alerted clocks: one row
    breached_moved = ticket(later)  # breached, then its due time moved later
    _clock(breached_moved, later, breached_at=now - timedelta(minutes=5))
    calm = ticket(later)
    _clock(calm, later)
    paused_warned = ticket(later)
    _clock(paused_warned, later, state="paused", warned_at=now)
    pending = ticket(past, status="pending")  # not worked on: never at risk
    _clock(pending, past)
    expect = {overdue, warned, breached_moved}
    assert set(_view(agent, "at_risk")) == expect
    assert queue_counts(user=agent, team_ids=[])["at_risk"] == 3
    monkeypatch.setattr(agent_selectors, "COUNT_CAP", 2)
    assert queue_counts(user=agent, team_ids=[])["at_risk"] == 2  # past due reach no cap
    monkeypatch.setattr(agent_selectors, "COUNT_CAP", 1)
    assert queue_counts(user=agent, team_ids=[])["at_risk"] == 1  # past due alone reach it


@pytest.mark.parametrize(
    ("id_limit", "windows", "path"),
    [
        (5000, (1, 2), "ids"),
        (2, (64, 512), "first-window"),
        (2, (1, 64), "second-window"),
        (2, (1, 2), "all-matches"),
    ],
    ids=["ids", "first-window", "second-window", "all-matches"],
)
def test_it_finds_words_the_same_whichever_way_it_searches(
    agent: Any, monkeypatch: Any, id_limit: int, windows: tuple[int, int], path: str
) -> None:
    """Full text tests the newest candidates ticket by ticket first; when they hold too
    few matches, a term with up to FULL_TEXT_ID_LIMIT matches becomes a list of ids, a
    commoner one tests more candidates and at last joins all its matches. Every way:
    same results, same order, pages that join up, the same number of queries for 3 or 30
    matches."""
    from tickets import search, selectors

    monkeypatch.setattr(search, "FULL_TEXT_ID_LIMIT", id_limit)
    monkeypatch.setattr(selectors, "SEARCH_WINDOWS", windows)
    hits: list[tuple[int, bool]] = []  # each window test: its first size, gave the page?
    commons: list[bool] = []  # each read of the GIN indexes: a common term?
    word_page, exact = selectors._word_page, search.SearchPlan.exact

    typo_windows = (3,)  # the typo fallback's calls (a word found nothing) are not counted
    monkeypatch.setattr(selectors, "TYPO_WINDOWS", typo_windows)

    def spy_page(*args: Any) -> Any:
        page = word_page(*args)
        if args[-1] != typo_windows:
            hits.append((args[-1][0], page is not None))
        return page

    def spy_exact(plan: Any) -> Any:
        result = exact(plan)
        commons.append(result[1])
        return result

    monkeypatch.setattr(selectors, "_word_page", spy_page)
    monkeypatch.setattr(search.SearchPlan, "exact", spy_exact)
    now = timezone.now()

    def ticket(subject: str, body: str, minutes_ago: int, **fields: Any) -> Ticket:
        updated_at = now - timedelta(minutes=minutes_ago)
        t = TicketFactory(subject=subject, updated_at=updated_at, **fields)
        Message.objects.create(ticket=t, channel=Channel.EMAIL, direction="inbound", body_text=body)
        return t

    in_subject = ticket("Printer jammed", "Help please", 3, status="open")
    in_body = ticket("Hello", "my printers are broken", 1, status="open")
    closed = ticket("Old", "printer from last year", 2, status="closed")
    ticket("Unrelated", "nothing to see", 0, status="open")

    def found(**base: Any) -> list[Ticket]:
        return list(ticket_list(filters=TicketFilters(search="printer", **base)).items)

    assert found() == [in_body, closed, in_subject]
    assert found(status=["open"]) == [in_body, in_subject]
    pages, cursor = [], None
    for _ in range(4):
        page = ticket_list(filters=TicketFilters(search="printer"), limit=1, cursor=cursor)
        pages += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [in_body, closed, in_subject]
    assert list(ticket_list(filters=TicketFilters(search="zebra")).items) == []
    with CaptureQueriesContext(connection) as few:
        found()
    for i in range(27):
        ticket(f"Printer {i}", "x", 10 + i, status="open")
    with CaptureQueriesContext(connection) as many:
        assert len(found()) == 30
    assert len(many.captured_queries) == len(few.captured_queries)
    first, then = windows
    if path == "ids":  # no window held the page, and no term was common
        assert {hit for _, hit in hits} == {False} and True not in commons
    elif path == "first-window":  # the first window always held it: no GIN read
        assert set(hits) == {(first, True)} and commons == []
    elif path == "second-window":  # common: the second window held it
        assert (then, True) in hits and (then, False) not in hits and True in commons
    else:  # common, and the second window held too few: all matches joined
        assert (then, False) in hits and True in commons


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("priority", "ticket_working_priority"),
        ("created", "ticket_working_created"),
        ("sla", "ticket_working_sla"),
        ("updated", "ticket_updated"),
    ],
)
def test_a_sorted_open_queue_reads_its_page_from_an_index(
    agent: Any, sort: str, index: str
) -> None:
    """ "All open" in every sort order starts at the top of an index instead of sorting
    every open ticket; for priority that needs the sort's expression to be the index's
    (tickets.models.priority_rank)."""
    customer = CustomerFactory()
    now = timezone.now()
    statuses = ["new", "open", "pending", "solved", "closed"]
    Ticket.objects.bulk_create(
        Ticket(
            subject="t",
            channel="email",
            customer=customer,
            reply_token=f"tok{i}",
            status=statuses[i % 5],
            priority=["low", "normal", "high", "urgent"][i % 4],
            created_at=now - timedelta(minutes=i),
            updated_at=now - timedelta(seconds=i),
            sla_next_due_at=now + timedelta(minutes=i) if i % 3 else None,
        )
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    # The filters first: they read the agent's ticket scope (tickets.visibility).
    filters = queue_view_filters(
        view="open", user=agent, team_ids=[], base=TicketFilters(), now=now
    )
    with CaptureQueriesContext(connection) as ctx:
        page = ticket_list(filters=filters, sort=sort)
    assert len(page.items) == 50
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ctx.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Scan using {index} on tickets_ticket u0" in plan, plan
    # The page's ids come in the index's order: only the 50 rows are sorted, later.
    assert not [line for line in plan.splitlines() if "Sort Key" in line and "u0." in line]
