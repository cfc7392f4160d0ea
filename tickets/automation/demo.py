"""The demo's triggers, loaded after the demo's history so they act on new tickets only.
The built-in time rules (auto-close, pending reminder) come with the migrations; the
demo writes them again if they were deleted."""

from typing import Any

from tickets.automation.defaults import defaults_ensure
from tickets.automation.models import TimeRule, Trigger
from tickets.automation.services import rule_create
from tickets.models import Macro

DEMO_TRIGGERS: list[dict[str, Any]] = [
    {
        "title": "Refunds to Billing",
        "position": 10,
        "events": ["ticket.created"],
        "conditions": {
            "all": [],
            "any": [
                {"field": "subject", "operator": "matches_word", "value": "refund"},
                {"field": "body", "operator": "matches_word", "value": "refund"},
            ],
        },
        "actions": [
            {"field": "team", "value": "Billing"},
            {"field": "add_tags", "value": ["refund"]},
        ],
    },
    {
        "title": "Urgent words raise the priority",
        "position": 20,
        "events": ["ticket.created", "message.inbound"],
        "conditions": {
            "all": [{"field": "priority", "operator": "less_than", "value": "high"}],
            "any": [
                {"field": "body", "operator": "matches_word", "value": "urgent"},
                {"field": "body", "operator": "matches_word", "value": "outage"},
                {"field": "subject", "operator": "matches_word", "value": "urgent"},
            ],
        },
        "actions": [{"field": "priority", "value": "high"}],
    },
    {
        "title": "Round-robin in Support",
        "position": 30,
        "events": ["ticket.created"],
        "conditions": {
            "all": [
                {"field": "team", "operator": "is", "value": "Support"},
                {"field": "assignee", "operator": "is", "value": None},
            ],
            "any": [],
        },
        "actions": [{"field": "assignee", "value": "round_robin"}],
    },
]


def automation_demo_seed() -> list[Trigger]:
    defaults_ensure(macro_model=Macro, time_rule_model=TimeRule)
    return [rule_create(model=Trigger, data=dict(data)) for data in DEMO_TRIGGERS]


def automation_demo_reset() -> None:
    Trigger.objects.filter(title__in=[t["title"] for t in DEMO_TRIGGERS]).delete()
