from typing import Any

from django.core.management.base import BaseCommand

from tickets.automation.time_rules import as_json, automations_run


class Command(BaseCommand):
    help = "Run one automation sweep now: time rules, waiting assignments, lost trigger firings."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(as_json(automations_run()))
