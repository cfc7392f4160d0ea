"""The SLA report counts only the tickets its reader may see (tickets.visibility): a
team-scoped agent with the report permission sees their teams' clocks, not the others'."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import AgentPreference, SlaRecord, SlaRecordState, TicketScope

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
REPORT = "/agent/reports/sla/"


def _record(ticket: Any, state: str) -> None:
    started = timezone.now() - timedelta(hours=5)
    SlaRecord.objects.create(
        ticket=ticket, kind="first_response", priority="normal", target_minutes=60,
        state=state, started_at=started, due_at=started + timedelta(hours=1),
        stopped_at=started + timedelta(hours=2),
    )  # fmt: skip


@pytest.fixture
def reader() -> Any:
    ours, theirs = TeamFactory(name="Ours"), TeamFactory(name="Theirs")
    _record(TicketFactory(team=ours), SlaRecordState.MISSED)
    _record(TicketFactory(team=theirs), SlaRecordState.MISSED)
    _record(TicketFactory(team=theirs), SlaRecordState.MET)
    agent = AgentFactory(username="rita")
    agent.user_permissions.add(Permission.objects.get(codename="view_sla_report"))
    ours.members.add(agent)
    AgentPreference.objects.create(user=agent, ticket_scope=TicketScope.TEAMS)
    return agent


def _get(user: Any, **params: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(REPORT, params)


def test_a_team_scoped_reader_sees_only_their_teams_clocks(reader: Any) -> None:
    page = _get(reader).content.decode()
    assert "Ours: 1" in page and "Theirs" not in page
    lines = _get(reader, format="csv").content.decode().splitlines()
    assert lines[1:] == ["(deleted policy),First response,1,0,1,0.0"]


def test_a_reader_who_sees_every_ticket_sees_every_clock(admin_user: Any, reader: Any) -> None:
    page = _get(admin_user).content.decode()
    assert "Ours: 1" in page and "Theirs: 1" in page
    lines = _get(admin_user, format="csv").content.decode().splitlines()
    assert lines[1:] == ["(deleted policy),First response,3,1,2,33.3"]
