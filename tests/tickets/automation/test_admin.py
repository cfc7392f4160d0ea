import json
from typing import Any

import pytest
from django.urls import reverse

from tickets.automation.models import TimeRule, Trigger

pytestmark = pytest.mark.django_db

REFUNDS = {
    "all": [{"field": "subject", "operator": "contains", "value": "refund"}],
    "any": [],
}


def _post(client: Any, url: str, **data: Any) -> Any:
    return client.post(url, data)


def test_it_saves_a_trigger_built_from_rows(client: Any, admin_user: Any, billing: Any) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:automation_trigger_add"),
        {
            "title": "Refunds to Billing",
            "active": "on",
            "position": "10",
            "events": ["ticket.created"],
            "conditions": json.dumps(REFUNDS),
            "actions": json.dumps([{"field": "team", "value": "Billing"}]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    trigger = Trigger.objects.get()
    assert trigger.conditions == REFUNDS
    assert trigger.events == ["ticket.created"]


def test_it_names_the_bad_operator(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    bad = {"all": [{"field": "channel", "operator": "contains", "value": "email"}], "any": []}
    response = client.post(
        reverse("admin:automation_trigger_add"),
        {
            "title": "Broken",
            "position": "10",
            "events": ["ticket.created"],
            "conditions": json.dumps(bad),
            "actions": json.dumps([{"field": "priority", "value": "high"}]),
        },
    )
    assert response.status_code == 200
    assert "conditions.all[0].operator" in response.content.decode()
    assert "does not apply to channel" in response.content.decode()
    assert not Trigger.objects.exists()


def test_the_editor_is_offered_without_inline_script(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    page = client.get(reverse("admin:automation_trigger_add")).content.decode()
    assert "admin/automation/rule_editor.js" in page
    assert 'data-rule-editor="conditions"' in page
    assert "data-schema=" in page


def test_dry_run_lists_matching_tickets_and_what_would_change(
    client: Any, admin_user: Any, ingest: Any, billing: Any
) -> None:
    hit = ingest(subject="Refund for order 7")
    ingest(subject="Where is my parcel")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:automation_trigger_dry_run"),
        {
            "events": ["ticket.created"],
            "conditions": json.dumps(REFUNDS),
            "actions": json.dumps(
                [{"field": "team", "value": "Billing"}, {"field": "priority", "value": "normal"}]
            ),
        },
    )
    body = response.content.decode()
    assert "1 of the last 2 tickets match now." in body
    assert f"#{hit.number}" in body
    assert "team → Billing" in body
    assert "priority" not in body.split("Would do")[1]  # already normal: nothing to do
    assert not Trigger.objects.exists()


def test_dry_run_answers_a_bad_rule_with_the_reason(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:automation_timerule_dry_run"),
        {"conditions": json.dumps({"all": [], "any": []}), "actions": "[]"},
    )
    assert "a rule needs at least one action" in response.content.decode()


def test_clone_makes_an_inactive_copy(client: Any, admin_user: Any) -> None:
    rule = TimeRule.objects.get(title="Close solved tickets after 4 days")
    client.force_login(admin_user)
    client.post(
        reverse("admin:automation_timerule_changelist"),
        {"action": "clone", "_selected_action": [rule.pk]},
    )
    copy = TimeRule.objects.get(title="Close solved tickets after 4 days (copy)")
    assert not copy.active
    assert copy.conditions == rule.conditions


def test_agents_cannot_reach_the_dry_run(client: Any, agent: Any) -> None:
    client.force_login(agent)
    response = client.post(reverse("admin:automation_trigger_dry_run"), {})
    assert response.status_code in (302, 403)
