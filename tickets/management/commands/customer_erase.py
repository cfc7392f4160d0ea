"""`manage.py customer_erase --email X --yes`: erase one customer's personal data (GDPR
Art. 17), irreversibly. Their tickets stay as anonymous skeletons for the reports.

Without --yes it asks for the customer's id on a terminal and refuses otherwise. Exit 3
when no customer matches, 1 when the erasure is refused (already erased, merged record).
"""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.errors import TicketError
from tickets.management.commands._customer_arg import customer_arguments, customer_from
from tickets.models import Ticket
from tickets.privacy import customer_erase


class Command(BaseCommand):
    help = "Erase one customer's personal data, keeping anonymous tickets for reports."

    def add_arguments(self, parser: ArgumentParser) -> None:
        customer_arguments(parser)
        parser.add_argument("--yes", action="store_true", help="Do it without asking.")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = customer_from(options)
        if not options["yes"]:
            self._confirm(customer.pk, str(customer))
        try:
            summary = customer_erase(customer, actor=None)
        except TicketError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Erased customer #{summary.customer_id}: {summary.identities} identities, "
            f"{summary.messages} messages, {summary.attachments} attachments; "
            f"{summary.tickets} tickets kept without personal data."
        )

    def _confirm(self, pk: int, name: str) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "Erasing cannot be undone. Run again with --yes to erase without asking."
            )
        tickets = Ticket.objects.filter(customer_id=pk).count()
        self.stdout.write(
            f"This erases {name} (customer #{pk}, {tickets} tickets) for good: names, "
            "addresses, message texts and files."
        )
        answer = input(f"Type the customer's id ({pk}) to erase: ").strip()
        if answer != str(pk):
            raise CommandError("Not erased: the id did not match.")
