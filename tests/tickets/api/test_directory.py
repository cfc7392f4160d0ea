"""GET /api/v1/users/, /users/<id>/, /teams/, /teams/<id>/: whom to assign to."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(agent, token_client):
    return token_client(agent, "tickets:read")


def test_it_lists_active_agents_with_their_teams(reader, agent):
    billing = TeamFactory(name="Billing")
    sam = AgentFactory(username="sam", first_name="Sam", last_name="Lee")
    billing.members.add(sam)
    UserFactory(username="customer-ish")  # no agent role: never assignable
    AgentFactory(username="gone", is_active=False)

    body = reader.get("/api/v1/users/").json()

    assert [u["username"] for u in body["results"]] == ["alex", "sam"]
    assert body["results"][1] | {"id": None, "email": None} == {
        "id": None, "username": "sam", "name": "Sam Lee", "email": None, "teams": [billing.pk],
    }  # fmt: skip
    in_team = reader.get("/api/v1/users/", {"team": billing.pk}).json()
    assert [u["username"] for u in in_team["results"]] == ["sam"]


def test_users_and_teams_page_and_cost_the_same_queries(reader):
    for _ in range(3):
        TeamFactory().members.add(AgentFactory())
    first = reader.get("/api/v1/users/", {"limit": 2}).json()
    rest = reader.get("/api/v1/users/", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["results"] + rest["results"]) == 4 and rest["next_cursor"] is None
    with CaptureQueriesContext(connection) as few:
        reader.get("/api/v1/users/")
        reader.get("/api/v1/teams/")
    for _ in range(15):
        TeamFactory().members.add(AgentFactory(), AgentFactory())

    with CaptureQueriesContext(connection) as many:
        users = reader.get("/api/v1/users/").json()
        teams = reader.get("/api/v1/teams/").json()

    assert len(users["results"]) == 34 and len(teams["results"]) == 18
    assert len(many) == len(few)


def test_it_reads_one_team_and_one_agent(reader, agent):
    team = TeamFactory(name="Billing", email="billing@desk.example")
    team.members.add(agent)

    got_team = reader.get(f"/api/v1/teams/{team.pk}/").json()
    got_user = reader.get(f"/api/v1/users/{agent.pk}/").json()

    assert got_team == {
        "id": team.pk, "name": "Billing", "email": "billing@desk.example", "members": [agent.pk],
    }  # fmt: skip
    assert got_user["username"] == "alex" and got_user["teams"] == [team.pk]


def test_unknown_ids_are_404_and_bad_parameters_400(reader):
    plain = UserFactory()

    assert reader.get("/api/v1/teams/999999/").status_code == 404
    assert reader.get(f"/api/v1/users/{plain.pk}/").status_code == 404
    bad = reader.get("/api/v1/users/", {"team": "Billing", "role": "x"})
    assert bad.status_code == 400 and {"team"} <= set(bad.json()["error"]["fields"])
    typo = reader.get("/api/v1/teams/", {"nmae": "x"})
    assert typo.status_code == 400 and "nmae" in typo.json()["error"]["fields"]
