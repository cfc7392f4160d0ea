"""`manage.py seed_demo`: load the demo help desk (development only: DEBUG on)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from tickets.demo import DemoRefused, demo_is_loaded, demo_reset, demo_seed


class Command(BaseCommand):
    help = (
        "Load a demo help desk: admin/admin, agent/agent, agent2/agent2, lead/lead (a "
        "Lead) and light/light (a Light agent), two teams, "
        "~40 customers and ~150 tickets over the past month. Runs only with DEBUG on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the admin user or any ticket exists (make run uses this).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First delete all tickets, customers, organizations, teams, tags, mailboxes, "
            "raw payloads and the demo users.",
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")

    def handle(self, *args: Any, if_empty: bool, reset: bool, seed: int, **options: Any) -> None:
        # The demo replays a month of history: the agent notifications and acknowledgements
        # it triggers were "sent" long ago. Printing them buried the console of a first
        # `make run` under a hundred mails.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._seed(if_empty=if_empty, reset=reset, seed=seed)

    def _seed(self, *, if_empty: bool, reset: bool, seed: int) -> None:
        try:
            if reset:
                demo_reset()
            elif demo_is_loaded():
                if if_empty:
                    self.stdout.write("The help desk already has data; the demo was not loaded.")
                    return
                raise CommandError(
                    "The help desk already has data (an admin user or tickets). Use --reset "
                    "to replace it with the demo, or --if-empty to skip quietly."
                )
            started = time.monotonic()
            summary = demo_seed(seed=seed)
        except DemoRefused as exc:
            if if_empty and not reset:
                # `make run` with DEBUG off: serve without the demo, and say how to log in.
                self.stderr.write(self.style.WARNING(f"Demo not loaded. {exc}"))
                return
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded in {time.monotonic() - started:.1f} s: {summary.tickets} tickets, "
                f"{summary.messages} messages, {summary.customers} customers in "
                f"{summary.organizations} organizations, {summary.teams} teams.\n"
                "Log in at /admin/ as admin/admin; agents: agent/agent and agent2/agent2; "
                "a lead: lead/lead; a light agent: light/light."
            )
        )
