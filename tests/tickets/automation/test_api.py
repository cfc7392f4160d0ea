from typing import Any

import pytest
from rest_framework.test import APIClient

from tickets.automation.models import TimeRule, Trigger
from tickets.integrations.tokens import api_token_create

pytestmark = pytest.mark.django_db

REFUNDS = {
    "title": "Refunds to Billing",
    "events": ["ticket.created"],
    "conditions": {
        "all": [
            {"field": "subject", "operator": "contains", "value": "refund"},
            {"field": "channel", "operator": "is", "value": "email"},
        ],
        "any": [],
    },
    "actions": [
        {"field": "team", "value": "Billing"},
        {"field": "priority", "value": "high"},
        {"field": "add_tags", "value": ["refund"]},
    ],
}


@pytest.fixture
def token_client() -> Any:
    def make(owner: Any, *scopes: str) -> APIClient:
        new = api_token_create(owner=owner, name="rules", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.secret}")
        return client

    return make


@pytest.fixture
def client(token_client: Any, admin_user: Any) -> Any:
    return token_client(admin_user, "automations:manage")


def test_it_creates_reads_changes_and_deletes_a_trigger(client: Any, billing: Any) -> None:
    created = client.post("/api/v1/triggers/", REFUNDS, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["conditions"] == REFUNDS["conditions"]
    assert body["fired_count"] == 0
    url = f"/api/v1/triggers/{body['id']}/"
    assert client.get(url).json()["title"] == "Refunds to Billing"
    changed = client.patch(url, {"active": False}, format="json")
    assert changed.json()["active"] is False
    assert [r["id"] for r in client.get("/api/v1/triggers/").json()["results"]] == [body["id"]]
    assert client.delete(url).status_code == 204
    assert not Trigger.objects.exists()


def test_validation_errors_name_the_bad_field(client: Any, billing: Any) -> None:
    bad = {**REFUNDS, "actions": [{"field": "team", "value": "Nobody"}]}
    response = client.post("/api/v1/triggers/", bad, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"] == {
        "actions[0].value": ["there is no team “Nobody”. Use a team's name or id."]
    }
    bad = {**REFUNDS, "events": ["ticket.exploded"]}
    fields = client.post("/api/v1/triggers/", bad, format="json").json()["error"]["fields"]
    assert list(fields) == ["events[0]"]


def test_it_reorders_time_rules(client: Any) -> None:
    ids = list(TimeRule.objects.order_by("position").values_list("pk", flat=True))
    response = client.post("/api/v1/automations/reorder/", {"ids": ids[::-1]}, format="json")
    assert response.status_code == 200
    assert list(TimeRule.objects.order_by("position").values_list("pk", flat=True)) == ids[::-1]
    unknown = client.post("/api/v1/automations/reorder/", {"ids": [999999]}, format="json")
    assert unknown.json()["error"]["fields"] == {"ids": ["there is no rule 999999."]}


def test_a_time_rule_needs_a_time_condition(client: Any) -> None:
    response = client.post(
        "/api/v1/automations/",
        {"title": "No time", "conditions": {"all": [], "any": []},
         "actions": [{"field": "status", "value": "closed"}]},
        format="json",
    )  # fmt: skip
    assert list(response.json()["error"]["fields"]) == ["conditions.all"]


def test_it_needs_the_scope(token_client: Any, admin_user: Any) -> None:
    other = token_client(admin_user, "tickets:read")
    response = other.get("/api/v1/triggers/")
    assert response.status_code == 403
    assert "automations:manage" in response.json()["error"]["message"]


def test_an_agent_token_lacks_the_permission(token_client: Any, agent: Any) -> None:
    response = token_client(agent, "automations:manage").get("/api/v1/automations/")
    assert response.status_code == 403
