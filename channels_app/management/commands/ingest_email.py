"""Read one RFC 5322 message from FILE or stdin (an MTA pipe) and store it.

Exit 0 once the message is stored (as a ticket message, or quarantined for an admin);
exit 75 (EX_TEMPFAIL) when it could not be stored, so the MTA keeps it and retries.

Postfix master.cf:  helpdesk unix - n n - - pipe
  flags=Rq user=helpdesk argv=/srv/helpdesk/manage.py ingest_email --recipient ${recipient}
"""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import Error as DatabaseError

from channels_app.email.inbound import email_receive_and_process
from channels_app.ingest import ProcessingDeferred

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one email message from FILE or stdin and turn it into a ticket message."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", help="An .eml file; stdin when left out.")
        parser.add_argument("--recipient", default="", help="The envelope recipient.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["file"]:
                with open(options["file"], "rb") as fh:
                    payload = fh.read()
            else:
                payload = sys.stdin.buffer.read()
        except OSError as exc:
            raise CommandError(
                f"Could not read the message: {exc}", returncode=EX_TEMPFAIL
            ) from exc
        try:
            raw, result = email_receive_and_process(
                payload=payload, source="pipe", recipient=options["recipient"]
            )
        except ProcessingDeferred as deferred:
            # Stored: the beat's retry of unprocessed payloads picks it up.
            self.stderr.write(
                f"Stored as payload {deferred.raw.pk}; processing failed "
                f"({deferred.__cause__}), retried."
            )
            return
        except DatabaseError as exc:  # django.db.Error: also InterfaceError (a killed connection)
            raise CommandError(
                f"Could not store the message, the database said: {exc}. The mail server "
                "will try again later.",
                returncode=EX_TEMPFAIL,
            ) from exc
        except Exception as exc:
            # Whatever else failed (disk, a bug, a dependency), the MTA must keep the mail:
            # it bounces on any other non-zero code. If the message did commit first, the
            # retry is recognised by its Message-ID and stored once.
            raise CommandError(
                f"Could not store the message ({exc.__class__.__name__}: {exc}). The mail "
                "server will try again later.",
                returncode=EX_TEMPFAIL,
            ) from exc
        if result is None:
            self.stdout.write(f"Stored as payload {raw.pk} ({raw.status}): {raw.error}".strip())
        else:
            self.stdout.write(f"Stored on ticket #{result.ticket.number}.")
