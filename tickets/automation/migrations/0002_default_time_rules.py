"""The built-in time rules, editable in the admin: close solved tickets after 4 days;
remind the customer on pending after 3 days, and solve with a note 7 days after that."""

from typing import Any

from django.db import migrations

REMINDER = (
    "Hi {{ customer.first_name }},\n\nWe are still waiting for your answer on "
    "“{{ ticket.subject }}” (#{{ ticket.number }}). Reply to this message and we will pick "
    "it up again.\n\n{{ agent.first_name }}"
)
SOLVED_NOTE = "No answer from the customer for 10 days: solved by the pending rule."


def create(apps: Any, schema_editor: Any) -> None:
    Macro = apps.get_model("tickets", "Macro")
    TimeRule = apps.get_model("automation", "TimeRule")
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


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_rules_and_firings"),
        ("tickets", "0013_scope_ticket_visibility"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
