"""The built-in time rules (tickets.automation.defaults)."""

from typing import Any

from django.db import migrations

from tickets.automation.defaults import defaults_ensure


def create(apps: Any, schema_editor: Any) -> None:
    defaults_ensure(
        macro_model=apps.get_model("tickets", "Macro"),
        time_rule_model=apps.get_model("automation", "TimeRule"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_rules_and_firings"),
        ("tickets", "0013_scope_ticket_visibility"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
