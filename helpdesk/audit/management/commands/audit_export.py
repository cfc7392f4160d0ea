from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from helpdesk.audit.services import audit_record, audit_rows, audit_write


class Command(BaseCommand):
    help = "Write the audit trail as CSV or JSON to stdout (or --out FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("csv", "json"), default="csv")
        parser.add_argument("--since", help="YYYY-MM-DD or an ISO date-time")
        parser.add_argument("--out", help="a file to write instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            when = parse_datetime(options["since"])
            if when is None:
                day = parse_date(options["since"])
                if day is None:
                    raise CommandError(f"--since {options['since']!r} is not a date (YYYY-MM-DD).")
                when = datetime.combine(day, time.min)
            since = when if timezone.is_aware(when) else timezone.make_aware(when)
        rows = audit_rows(since).iterator()
        if options["out"]:
            with open(options["out"], "w", newline="", encoding="utf-8") as out:
                count = audit_write(rows, out, options["format"])
        else:
            count = audit_write(rows, self.stdout, options["format"])
        audit_record(action="audit.export", actor="manage.py", data={"rows": count})
