"""`manage.py customer_export --email X --out FILE.zip`: one customer's data (GDPR Art. 15).

The ZIP holds customer.json (profile, identities, tickets with every message, ratings,
portal sign-ins, deliveries, raw payload records, audit entries) and the attachments
under attachments/<id>/<name>. The export is recorded in the audit trail. Exit 3 when no
customer matches.
"""

import os
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.management.commands._customer_arg import customer_arguments, customer_from
from tickets.privacy import customer_export_archive


class Command(BaseCommand):
    help = "Export everything about one customer as a ZIP of JSON and files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        customer_arguments(parser)
        parser.add_argument("--out", required=True, help="Where to write the .zip file.")
        parser.add_argument(
            "--without-internal-notes",
            action="store_true",
            help="Leave agents' internal notes out (when an exemption applies to them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        customer = customer_from(options)
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist; create it first.")
        # Written beside the target and renamed: a failed export leaves no half file.
        fd, partial = tempfile.mkstemp(dir=out.parent, prefix=".export-", suffix=".zip")
        try:
            with os.fdopen(fd, "wb") as fh:
                summary = customer_export_archive(
                    customer=customer,
                    out=fh,
                    actor=None,
                    include_internal=not options["without_internal_notes"],
                )
            os.chmod(partial, 0o600)  # personal data: readable by its owner only
            os.replace(partial, out)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        self.stdout.write(
            f"Exported customer #{customer.pk}: {summary.tickets} tickets, "
            f"{summary.messages} messages, {summary.files} files to {out}"
        )
        for name in summary.missing_files:
            self.stderr.write(f"Missing from storage (listed in the JSON as missing): {name}")
