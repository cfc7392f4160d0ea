"""The top bar's search: a number opens its ticket, results as you type (highlighted,
escaped, in constant queries), typos found by trigrams; the queue's customer filter."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import CustomerFactory, IdentityFactory, TicketFactory, UserFactory
from tickets import search_trigram
from tickets.models import Channel, Direction, IdentityKind, Message, Ticket
from tickets.search import highlight
from tickets.selectors import TicketFilters, ticket_list

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _ticket(subject: str, body: str = "Hello", **fields: Any) -> Ticket:
    ticket = TicketFactory(subject=subject, status=fields.pop("status", "open"), **fields)
    Message.objects.create(
        ticket=ticket, channel=Channel.EMAIL, direction=Direction.INBOUND, body_text=body
    )
    return ticket


def _suggest(client: Client, q: str) -> str:
    response = client.get("/agent/search/suggest/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_it_opens_a_ticket_by_its_number_and_lists_the_rest(agent_client: Client) -> None:
    ticket = _ticket("Printer jammed")
    for q in (str(ticket.number), f"#{ticket.number}", f"  #{ticket.number} "):
        response = agent_client.get("/agent/search/", {"q": q})
        assert response.status_code == 302
        assert response["Location"] == f"/agent/tickets/{ticket.number}/"
    missing = agent_client.get("/agent/search/", {"q": "#999999999"})
    assert missing["Location"] == "/agent/?view=all&q=%23999999999"
    words = agent_client.get("/agent/search/", {"q": "printer jam"})
    assert words["Location"] == "/agent/?view=all&q=printer+jam"
    assert agent_client.get("/agent/search/")["Location"] == "/agent/?view=all"
    # The results page shows the query in the top bar again.
    page = agent_client.get(words["Location"]).content.decode()
    assert 'id="global-search" ' in page and 'value="printer jam"' in page


def test_it_is_for_agents_only(client: Client, plain_user: Any) -> None:
    assert client.get("/agent/search/suggest/?q=x")["Location"].startswith("/agent/login/")
    client.force_login(plain_user)
    assert client.get("/agent/search/suggest/?q=x").status_code == 403
    assert client.get("/agent/search/?q=1").status_code == 403
    assert client.get("/agent/customers/suggest/?q=x").status_code == 403


def test_it_suggests_tickets_of_every_status_highlighted_and_escaped(
    agent_client: Client,
) -> None:
    evil = CustomerFactory(name='<img src=x onerror="alert(1)">Printer Pete')
    solved = _ticket("<b>Printer</b> & paper jam", status="solved", customer=evil)
    _ticket("Unrelated refund")
    html = _suggest(agent_client, "printer")
    assert f"#{solved.number}" in html and "Solved" in html
    assert "&lt;b&gt;<mark>Printer</mark>&lt;/b&gt; &amp; paper jam" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;<mark>Printer</mark> Pete" in html
    assert "<img" not in html and "<b>" not in html
    assert "refund" not in html.lower()
    assert f'href="/agent/tickets/{solved.number}/"' in html
    assert 'href="/agent/search/?q=printer"' in html  # every result, in the queue
    assert "No ticket matches" in _suggest(agent_client, "zzzqqq")
    assert _suggest(agent_client, "   ").strip() == ""


def test_it_suggests_by_number_email_and_phone(agent_client: Client) -> None:
    pat = CustomerFactory(name="Pat")
    IdentityFactory(customer=pat, kind=IdentityKind.EMAIL, value="pat@example.org")
    IdentityFactory(customer=pat, kind=IdentityKind.PHONE, value="+14155550123")
    theirs = _ticket("Where is it", customer=pat)
    other = _ticket("Something else")
    assert f"#{other.number}" in _suggest(agent_client, f"#{other.number}")
    for q in ("PAT@example.org", "(415) 555-0123"):
        html = _suggest(agent_client, q)
        assert f"#{theirs.number}" in html and f"#{other.number}" not in html


def test_it_suggests_at_most_eight_in_constant_queries(agent_client: Client) -> None:
    _ticket("Printer one")

    def queries(q: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            _suggest(agent_client, q)
        return len(ctx.captured_queries)

    one, one_typo = queries("printer"), queries("printr")
    for i in range(20):
        _ticket(f"Printer {i}")
    assert queries("printer") == one
    assert queries("printr") == one_typo
    assert _suggest(agent_client, "printer").count('class="search-hit"') == 8


def test_it_finds_typos_in_subjects_and_customer_names() -> None:
    jammed = _ticket("Printer jammed")
    jonathan = _ticket("Question", customer=CustomerFactory(name="Jonathan Whitmore"))
    _ticket("Refund for my order")

    def found(q: str, **filters: Any) -> list[Ticket]:
        return list(ticket_list(filters=TicketFilters(search=q, **filters)).items)

    assert found("printr") == [jammed]
    assert found("printr jamed") == [jammed]
    assert found("whitmor") == [jonathan]
    assert found("printr", status=["solved"]) == []  # the other filters still hold
    assert found("xylophone") == []


def test_it_tries_trigrams_only_when_the_words_find_nothing() -> None:
    _ticket("Printer jammed")
    Ticket.objects.update(subject="Printer jammed")

    def sql(q: str) -> str:
        with CaptureQueriesContext(connection) as ctx:
            ticket_list(filters=TicketFilters(search=q))
        return " ".join(query["sql"] for query in ctx.captured_queries)

    marker = "%>" if connection.vendor == "postgresql" else "tickets_ticket_trgm"
    assert marker not in sql("printer")
    assert marker not in sql(f"#{Ticket.objects.get().number}")
    assert marker in sql("printr")


@pytest.mark.skipif(not search_trigram.SQLITE_TRIGRAM, reason="SQLite without FTS5 trigrams")
def test_it_keeps_the_sqlite_trigram_tables_in_step() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 tables exist on SQLite only")
    ticket = _ticket("Printer jammed")
    assert search_trigram.typo_q("printr") is not None
    assert list(ticket_list(filters=TicketFilters(search="printr")).items) == [ticket]
    Ticket.objects.filter(pk=ticket.pk).update(subject="Scanner broken")
    assert list(ticket_list(filters=TicketFilters(search="scaner")).items) == [ticket]
    assert list(ticket_list(filters=TicketFilters(search="printr")).items) == []
    with connection.cursor() as cursor:
        # What a migration that rebuilds the table does to its triggers.
        cursor.execute("DROP TRIGGER tickets_ticket_trgm_ins")
        assert search_trigram.sqlite_repair(cursor) is True
        assert search_trigram.sqlite_repair(cursor) is False
    later = _ticket("Keyboard missing keys")
    assert list(ticket_list(filters=TicketFilters(search="keybord")).items) == [later]


def test_it_highlights_words_and_escapes_everything_else() -> None:
    assert highlight("Printers & <jam>", "printer") == "<mark>Printers</mark> &amp; &lt;jam&gt;"
    assert highlight("jammed tray", "jam") == "<mark>jammed</mark> tray"
    assert highlight("Printer jammed", "printers") == "<mark>Printer</mark> jammed"
    assert highlight("Printer jammed", "printr") == "<mark>Printer</mark> jammed"
    assert highlight("<script>x</script>", "") == "&lt;script&gt;x&lt;/script&gt;"
    assert highlight('"quoted"', "quoted") == "&quot;<mark>quoted</mark>&quot;"


def test_it_filters_by_customer_name_or_email_and_keeps_customer_ids(
    agent_client: Client,
) -> None:
    dana = CustomerFactory(name="Dana Scully")
    IdentityFactory(customer=dana, kind=IdentityKind.EMAIL, value="dana@example.com")
    fox = CustomerFactory(name="Fox Mulder")
    danas, foxs = _ticket("One", customer=dana), _ticket("Two", customer=fox)

    def numbers(**params: Any) -> list[int]:
        response = agent_client.get("/agent/", {"view": "open", **params})
        assert response.status_code == 200
        return [t.number for t in response.context["page"].items]

    assert numbers(customer_q="Dana Scully <dana@example.com>") == [danas.number]
    assert numbers(customer_q="DANA@example.com") == [danas.number]
    assert numbers(customer_q="mulder") == [foxs.number]
    assert numbers(customer=fox.pk) == [foxs.number]
    page = agent_client.get("/agent/", {"customer": dana.pk}).content.decode()
    assert 'value="Dana Scully &lt;dana@example.com&gt;"' in page  # the id, shown by name
    unknown = agent_client.get("/agent/", {"customer_q": "nobody-like-this"}).content.decode()
    assert "No customer matches “nobody-like-this”" in unknown
    options = agent_client.get("/agent/customers/suggest/", {"q": "dana"}).content.decode()
    assert '<option value="Dana Scully &lt;dana@example.com&gt;">' in options
    assert "Mulder" not in options


def test_the_bulk_bar_preselects_nothing(agent_client: Client, agent: Any) -> None:
    _ticket("One")
    html = agent_client.get("/agent/").content.decode()
    bar = html[html.index('id="bulk-form"') : html.index("</form>", html.index('id="bulk-form"'))]
    assert not re.search(r"<option[^>]*\sselected", bar)
    assert '<option value="">Choose an action…</option>' in bar
    assert '<option value="none">Nobody (unassign)</option>' in bar
    assert 'id="select-all"' in html


def test_it_links_reports_for_those_who_may_see_them(
    agent: Any, agent_client: Client, admin_user: Any
) -> None:
    link = 'href="/agent/reports/sla/"'
    assert link not in agent_client.get("/agent/").content.decode()
    agent.user_permissions.add(Permission.objects.get(codename="view_sla_report"))
    allowed = Client()
    allowed.force_login(agent)
    assert link in allowed.get("/agent/").content.decode()
    assert allowed.get("/agent/reports/sla/").status_code == 200
    boss = Client()
    boss.force_login(admin_user)
    assert link in boss.get("/agent/macros/").content.decode()
    plain = UserFactory(username="nobody-special", first_name="Nobody")
    plain.user_permissions.add(Permission.objects.get(codename="view_sla_report"))
    outsider = Client()
    outsider.force_login(plain)  # the permission alone, without the agent role
    assert outsider.get("/agent/reports/sla/").status_code == 403


@pytest.mark.parametrize("windows", [(512,), (1,)], ids=["newest-window", "index"])
def test_it_pages_typo_matches_the_same_whichever_way_it_reads_them(
    monkeypatch: Any, windows: tuple[int, ...]
) -> None:
    """The typo fallback tests the newest candidates one by one first; when they hold too
    few matches for a page it reads them all from the index. Same tickets, same order."""
    from tickets import selectors

    monkeypatch.setattr(selectors, "TYPO_WINDOWS", windows)
    printers = [_ticket(f"Printer {i}") for i in range(5)]
    _ticket("Scanner")
    seen, cursor = [], None
    for _ in range(5):
        page = ticket_list(filters=TicketFilters(search="printr"), limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(printers, key=lambda t: (t.updated_at, t.pk), reverse=True)
