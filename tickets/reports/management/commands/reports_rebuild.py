"""`manage.py reports_rebuild [--from DATE] [--batch N]`: recompute the reports' per-ticket
facts from the record (messages, audit events, ratings), for every ticket or those created
on or after DATE (midnight in the server's time zone). Safe while the desk is in use and
safe to run twice: each batch locks its tickets and writes the same rows the subscribers
would."""

from argparse import ArgumentParser
from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from helpdesk.lib.dates import date_parse
from tickets.models import Ticket
from tickets.reports.facts import facts_rebuild_batch


class Command(BaseCommand):
    help = "Recompute the reports' per-ticket facts from the record."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--from", dest="start", help="Only tickets created on or after.")
        parser.add_argument("--batch", type=int, default=500, help="Tickets per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        created_from = self._start(options["start"])
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        tickets = Ticket.objects.all()
        if created_from is not None:
            tickets = tickets.filter(created_at__gte=created_from)
        total, done, after_id = tickets.count(), 0, 0
        while True:
            last = facts_rebuild_batch(
                after_id=after_id, limit=options["batch"], created_from=created_from
            )
            if last is None:
                break
            done += tickets.filter(pk__gt=after_id, pk__lte=last).count()
            after_id = last
            if self.stdout.isatty() or options["verbosity"] > 1:
                self.stdout.write(f"\r{done}/{total} tickets", ending="")
                self.stdout.flush()
        self.stdout.write(f"\rRebuilt the facts of {done} tickets.")

    def _start(self, text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            day = date_parse(text)
        except ValueError as exc:
            raise CommandError(f"--from wants a date like 2026-03-01, not {text!r}.") from exc
        return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
