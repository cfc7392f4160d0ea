"""Team-scoped access (docs/access.md): a restricted agent gets 404 on another team's
ticket on every path, and lists leave it out."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import AgentPreference, Attachment, Message, TicketScope
from tickets.visibility import ticket_scope, tickets_visible_to

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def setup() -> dict[str, Any]:
    ours, theirs = TeamFactory(name="Ours"), TeamFactory(name="Theirs")
    agent = AgentFactory(username="rita")
    ours.members.add(agent)
    AgentPreference.objects.create(user=agent, ticket_scope=TicketScope.TEAMS)
    visible = TicketFactory(team=ours, subject="Visible printer jam")
    hidden = TicketFactory(team=theirs, subject="Hidden printer jam")
    message = Message.objects.create(ticket=hidden, body_text="see file", direction="inbound")
    attachment = Attachment.objects.create(
        message=message,
        filename="a.txt",
        content_type="text/plain",
        size=3,
        file=ContentFile(b"abc", name="a.txt"),
    )
    return {"agent": agent, "visible": visible, "hidden": hidden, "attachment": attachment}


def _ticket_urls(number: int) -> list[str]:
    t = f"/agent/tickets/{number}"
    return [f"{t}/", f"{t}/timeline/", f"{t}/header/", f"{t}/merge/?q=x"]


@pytest.mark.parametrize("index", range(4))
def test_ticket_pages_404_on_another_teams_ticket(setup: dict, index: int) -> None:
    client = Client()
    client.force_login(setup["agent"])
    assert client.get(_ticket_urls(setup["hidden"].number)[index]).status_code == 404
    assert client.get(_ticket_urls(setup["visible"].number)[index]).status_code == 200


@pytest.mark.parametrize("path", ["reply/", "update/"])
def test_ticket_writes_404_on_another_teams_ticket(setup: dict, path: str) -> None:
    client = Client()
    client.force_login(setup["agent"])
    response = client.post(f"/agent/tickets/{setup['hidden'].number}/{path}", {"body": "hi"})
    assert response.status_code == 404


def test_attachment_download_404(setup: dict) -> None:
    client = Client()
    client.force_login(setup["agent"])
    assert client.get(f"/agent/attachments/{setup['attachment'].pk}/").status_code == 404
    setup["agent"].agent_preference.delete()  # back to the role's default: all tickets
    client.force_login(setup["agent"])
    assert client.get(f"/agent/attachments/{setup['attachment'].pk}/").status_code == 200


def test_queue_and_search_leave_hidden_tickets_out(setup: dict) -> None:
    client = Client()
    client.force_login(setup["agent"])
    body = client.get("/agent/?view=all&q=printer").content.decode()
    assert "Visible printer jam" in body
    assert "Hidden printer jam" not in body
    jump = client.get(f"/agent/search/?q={setup['hidden'].number}")
    assert f"/agent/tickets/{setup['hidden'].number}/" not in jump.get("Location", "")


def test_bulk_action_skips_hidden_tickets(setup: dict) -> None:
    client = Client()
    client.force_login(setup["agent"])
    client.post(
        "/agent/bulk/",
        {"ids": [setup["hidden"].pk], "action": "priority", "priority": "urgent"},
    )
    setup["hidden"].refresh_from_db()
    assert setup["hidden"].priority != "urgent"


def test_api_detail_and_list(setup: dict) -> None:
    api = APIClient()
    api.force_authenticate(setup["agent"])
    assert api.get(f"/api/v1/tickets/{setup['hidden'].number}/").status_code == 404
    numbers = {t["number"] for t in api.get("/api/v1/tickets/").json()["results"]}
    assert numbers == {setup["visible"].number}


def test_scopes_by_setting_and_by_role(setup: dict) -> None:
    agent = setup["agent"]
    assert set(tickets_visible_to(agent)) == {setup["visible"]}
    AgentPreference.objects.filter(user=agent).update(ticket_scope=TicketScope.ASSIGNED)
    agent = type(agent).objects.get(pk=agent.pk)
    assert list(tickets_visible_to(agent)) == []
    # A role without view_all_tickets: its members see their teams' tickets by default.
    AgentPreference.objects.filter(user=agent).delete()
    restricted = Group.objects.create(name="Team agents")
    restricted.permissions.add(Permission.objects.get(codename="view_team_tickets"))
    agent.groups.set([Group.objects.get(name="Agents"), restricted])
    agent = type(agent).objects.get(pk=agent.pk)
    assert ticket_scope(agent) == TicketScope.ALL  # Agents still grants every ticket
    Group.objects.get(name="Agents").permissions.remove(
        Permission.objects.get(codename="view_all_tickets")
    )
    agent = type(agent).objects.get(pk=agent.pk)
    assert ticket_scope(agent) == TicketScope.TEAMS
    assert set(tickets_visible_to(agent)) == {setup["visible"]}


def test_search_suggestions_leave_hidden_tickets_out(setup: dict) -> None:
    client = Client()
    client.force_login(setup["agent"])
    body = client.get("/agent/search/suggest/?q=printer").content.decode()
    assert f"#{setup['visible'].number}" in body
    assert f"#{setup['hidden'].number}" not in body


def test_merge_offers_and_accepts_only_visible_targets(setup: dict) -> None:
    client = Client()
    client.force_login(setup["agent"])
    url = f"/agent/tickets/{setup['visible'].number}/merge/"
    assert "Hidden printer jam" not in client.get(url, {"q": "printer"}).content.decode()
    client.post(url, {"into": setup["hidden"].number})
    setup["visible"].refresh_from_db()
    assert setup["visible"].merged_into_id is None
    second = TicketFactory(team=setup["visible"].team, subject="Second")
    client.post(
        "/agent/bulk/",
        {
            "ids": [setup["visible"].pk, second.pk],
            "action": "merge",
            "merge_into": str(setup["hidden"].number),
        },
    )
    setup["visible"].refresh_from_db()
    assert setup["visible"].merged_into_id != setup["hidden"].pk


def test_customer_sidebar_lists_only_visible_tickets(setup: dict) -> None:
    setup["hidden"].customer = setup["visible"].customer
    setup["hidden"].save(update_fields=["customer"])
    client = Client()
    client.force_login(setup["agent"])
    body = client.get(f"/agent/tickets/{setup['visible'].number}/").content.decode()
    assert "Hidden printer jam" not in body
    setup["agent"].agent_preference.delete()
    client.force_login(setup["agent"])
    body = client.get(f"/agent/tickets/{setup['visible'].number}/").content.decode()
    assert "Hidden printer jam" in body


def test_queue_counts_and_chats_counter_count_only_visible(setup: dict) -> None:
    from tickets.models import Channel, Direction
    from tickets.workspace.chats import chats_waiting
    from tickets.workspace.selectors import queue_counts

    agent = setup["agent"]
    assert queue_counts(user=agent, team_ids=[setup["visible"].team_id])["open"] == 1
    chat = TicketFactory(team=setup["hidden"].team, channel=Channel.CHAT, status="open")
    Message.objects.create(
        ticket=chat, body_text="hello?", direction=Direction.INBOUND, channel=Channel.CHAT
    )
    assert chats_waiting().count == 1
    assert chats_waiting(agent).count == 0
