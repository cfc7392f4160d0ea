"""The built-in time rules, editable in the admin: close solved tickets after 4 days;
remind the customer after 3 days pending, and solve with a note 7 days after that.
Written by the data migration, and again by seed_demo where missing."""

from typing import Any

REMINDER = (
    "Hi {{ customer.first_name }},\n\nWe are still waiting for your answer on "
    "“{{ ticket.subject }}” (#{{ ticket.number }}). Reply to this message and we will pick "
    "it up again.\n\n{{ agent.first_name }}"
)
SOLVED_NOTE = "No answer from the customer for 10 days: solved by the pending rule."


def defaults_ensure(*, macro_model: Any, time_rule_model: Any) -> None:
    """Create the built-in rules and their macros where missing; an admin's edits stay.
    Takes the models so the data migration can pass its historical ones."""
    Macro, TimeRule = macro_model, time_rule_model
    reminder, _ = Macro.objects.get_or_create(
        name="Pending reminder", owner=None, defaults={"body": REMINDER}
    )
    note, _ = Macro.objects.get_or_create(
        name="Solved after no answer", owner=None, defaults={"body": SOLVED_NOTE}
    )
    TimeRule.objects.get_or_create(
        title="Close solved tickets after 4 days",
        defaults={
            "position": 10,
            "conditions": {
                "all": [
                    {"field": "status", "operator": "is", "value": "solved"},
                    {
                        "field": "hours_since_solved",
                        "operator": "greater_than",
                        "value": 96,
                        "calendar": "calendar",
                    },
                ],
                "any": [],
            },
            "actions": [{"field": "status", "value": "closed"}],
        },
    )
    TimeRule.objects.get_or_create(
        title="Remind the customer after 3 days pending",
        defaults={
            "position": 20,
            "conditions": {
                "all": [
                    {"field": "status", "operator": "is", "value": "pending"},
                    {
                        "field": "hours_since_pending",
                        "operator": "greater_than",
                        "value": 72,
                        "calendar": "calendar",
                    },
                ],
                "any": [],
            },
            "actions": [{"field": "reply", "value": reminder.pk}],
        },
    )
    TimeRule.objects.get_or_create(
        title="Solve pending tickets 7 days after the reminder",
        defaults={
            "position": 30,
            "conditions": {
                "all": [
                    {"field": "status", "operator": "is", "value": "pending"},
                    {
                        "field": "hours_since_pending",
                        "operator": "greater_than",
                        "value": 240,
                        "calendar": "calendar",
                    },
                ],
                "any": [],
            },
            "actions": [
                {"field": "note", "value": note.pk},
                {"field": "status", "value": "solved"},
            ],
        },
    )
