"""The customer_export and customer_erase commands name their customer the same way."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from tickets.errors import TicketError, TicketErrorCode
from tickets.models import Customer
from tickets.privacy import customer_lookup

EXIT_NOT_FOUND = 3


def customer_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--email", help="An email address of the customer.")
    parser.add_argument("--phone", help="A phone number of the customer (E.164 or local).")
    parser.add_argument("--customer-id", type=int, help="The customer's id (see the admin).")


def customer_from(options: dict[str, Any]) -> Customer:
    if not (options["email"] or options["phone"] or options["customer_id"] is not None):
        raise CommandError("Name the customer with --email, --phone or --customer-id.")
    try:
        return customer_lookup(
            email=options["email"], phone=options["phone"], customer_id=options["customer_id"]
        )
    except TicketError as exc:
        code = EXIT_NOT_FOUND if exc.code == TicketErrorCode.NOT_FOUND else 1
        raise CommandError(exc.message, returncode=code) from exc
