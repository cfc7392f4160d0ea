"""GET /api/v1/reports/summary/: scope, validation, who sees what, the answer's shape."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import AgentFactory, TeamFactory
from tests.tickets.reports.test_metrics import _close, brute
from tickets.models import AgentPreference, TicketScope

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/summary/"
WEEK = {"from": "2026-03-26", "to": "2026-04-01", "tz": "Europe/Berlin"}


def test_it_answers_the_summary_with_the_reports_scope(history, admin_user, token_client):
    client = token_client(admin_user, "reports:read")
    response = client.get(URL, WEEK)
    assert response.status_code == 200
    expected = brute(
        history.truths.values(),
        start=date(2026, 3, 26),
        end=date(2026, 4, 1),
        tz="Europe/Berlin",
    )
    _close(response.json(), expected)
    assert response.json()["nps"] == {"score": None, "count": 0}
    assert response.json()["ces"] == {"mean": None, "count": 0}


def test_it_refuses_a_token_without_the_scope(admin_user, token_client):
    response = token_client(admin_user, "tickets:read").get(URL, WEEK)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"
    assert "reports:read" in response.json()["error"]["message"]


def test_it_refuses_anyone_not_signed_in(db):
    response = APIClient().get(URL, WEEK)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "yesterday", "to": "2026-03-01"}, "from"),
        ({"to": "2026-03-01"}, "from"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({**WEEK, "tz": "Mars/Olympus"}, "tz"),
        ({**WEEK, "channel": "pigeon"}, "channel"),
        ({**WEEK, "team": "ours"}, "team"),
        ({**WEEK, "group_by": "day"}, "group_by"),
    ],
)
def test_it_answers_bad_input_with_400_naming_the_field(admin_user, token_client, query, field):
    response = token_client(admin_user, "reports:read").get(URL, query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_an_agent_counts_only_the_tickets_they_may_see(history, token_client):
    team = history.teams[0]
    rita = AgentFactory(username="rita")
    team.members.add(rita)
    AgentPreference.objects.create(user=rita, ticket_scope=TicketScope.TEAMS)
    visible = [t for t in history.truths.values() if t.team_id == team.pk]
    response = token_client(rita, "reports:read").get(URL, WEEK)
    assert response.status_code == 200
    expected = brute(visible, start=date(2026, 3, 26), end=date(2026, 4, 1), tz="Europe/Berlin")
    assert (
        expected["tickets_created"]
        < brute(
            history.truths.values(),
            start=date(2026, 3, 26),
            end=date(2026, 4, 1),
            tz="Europe/Berlin",
        )["tickets_created"]
    )
    _close(response.json(), expected)


def test_an_agent_of_no_team_with_team_scope_sees_nothing(history, token_client):
    loner = AgentFactory(username="loner")
    AgentPreference.objects.create(user=loner, ticket_scope=TicketScope.TEAMS)
    TeamFactory(name="Empty").members.add(loner)
    body = token_client(loner, "reports:read").get(URL, WEEK).json()
    assert body["tickets_created"] == 0
    assert body["by_channel"] == {}


def test_the_query_count_does_not_grow_with_the_period(history, admin_user, token_client):
    client = token_client(admin_user, "reports:read")
    client.get(URL, WEEK)  # the token's last use is written at most once a minute
    with CaptureQueriesContext(connection) as day:
        client.get(URL, {"from": "2026-03-26", "to": "2026-03-26"})
    with CaptureQueriesContext(connection) as month:
        client.get(URL, {"from": "2026-03-01", "to": "2026-04-30"})
    assert len(day) == len(month)
