"""`manage.py retention_purge [--dry-run]`: what beat's daily "Purge data past retention"
does, now: processed raw payloads past HELPDESK_RETENTION_RAW_DAYS lose their content,
closed tickets past HELPDESK_RETENTION_CLOSED_MONTHS are deleted with their files.
--dry-run prints what is due and changes nothing."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from channels_app.retention import RetentionReport, retention_due, retention_purge


def _setting(value: int | None, unit: str) -> str:
    return "off" if value is None else f"{value} {unit}"


class Command(BaseCommand):
    help = "Purge raw payloads and closed tickets past their retention period."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            "Retention: raw payloads "
            f"{_setting(settings.HELPDESK_RETENTION_RAW_DAYS, 'days')}, closed tickets "
            f"{_setting(settings.HELPDESK_RETENTION_CLOSED_MONTHS, 'months')}."
        )
        if options["dry_run"]:
            self._report("Would purge", retention_due())
        else:
            self._report("Purged", retention_purge())

    def _report(self, verb: str, report: RetentionReport) -> None:
        self.stdout.write(
            f"{verb}: {report.raw_payloads} raw payloads, {report.tickets} closed tickets, "
            f"{report.attachments} attachments."
        )
