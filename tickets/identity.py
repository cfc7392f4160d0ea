"""Normalization of contact identities, so one person is one (kind, value)."""

from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tickets.errors import TicketError, TicketErrorCode
from tickets.models import IdentityKind

DEFAULT_PHONE_REGION = "US"


@lru_cache(maxsize=4096)
def _email_valid(address: str) -> bool:
    # Every inbound mail asks for its sender's (and its CCs'): validated once per address.
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def normalize_email(value: str) -> str:
    address = value.strip().strip("<>").strip().lower()
    if not _email_valid(address):
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY,
            f"“{value}” is not a valid email address. Check it for typos.",
        )
    return address


def normalize_phone(value: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164, e.g. '+14155550123'. Numbers without a country code are read in `region`."""
    try:
        parsed = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY,
            f"“{value}” is not a phone number. Use international format, e.g. +14155550123.",
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise TicketError(
            TicketErrorCode.INVALID_IDENTITY,
            f"“{value}” is not a possible phone number. Check the country code and digits.",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str) -> str:
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    if kind == IdentityKind.PHONE:
        return normalize_phone(value)
    if kind in (IdentityKind.CHAT, IdentityKind.EXTERNAL):
        cleaned = value.strip()
        if not cleaned or len(cleaned) > 320:
            raise TicketError(
                TicketErrorCode.INVALID_IDENTITY,
                "A chat visitor or external id must be 1 to 320 characters.",
            )
        return cleaned
    raise TicketError(TicketErrorCode.INVALID_IDENTITY, f"Unknown identity kind “{kind}”.")
