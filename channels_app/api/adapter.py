"""The REST API's inbound message: JSON in, InboundMessage out."""

import json
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channels_app.inbound import Identity, InboundMessage, ParseError
from helpdesk.lib.dates import date_in_range
from tickets.models import Channel, IdentityKind, Priority

MAX_SUBJECT = 255
MAX_TEXT = 200_000


def _field(data: dict[str, object], name: str, *, required: bool = True) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ParseError(f"“{name}” must be a string.")
    if required and not value.strip():
        raise ParseError(f"“{name}” is required.")
    return value


def _received_at(text: str) -> datetime:
    # Kept within helpdesk.lib.dates' range: a year-9999 or year-1 time would be stored
    # as the message's and overflow the SLA and report arithmetic done on it later.
    try:
        parsed = parse_datetime(text)
        if parsed is not None:
            date_in_range(parsed)
    except ValueError as exc:  # 2026-02-30, or out of range
        raise ParseError(f"“received_at” is not a usable time: {exc}") from exc
    if parsed is None or parsed.tzinfo is None:
        raise ParseError("“received_at” must be an ISO 8601 time with a timezone.")
    return parsed


# The RawInbound.adapter of this provider's payloads (the channel registry's key).
NAME = "api"


def parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    """Fields: external_id, from (email | phone | external_id), name, subject, text,
    ticket (number, optional), priority (optional), received_at (ISO 8601, optional)."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"The body is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("The body must be a JSON object.")
    sender = data.get("from")
    if not isinstance(sender, dict):
        raise ParseError("“from” must be an object with an email, phone or external_id.")
    for kind, key in (
        (IdentityKind.EMAIL, "email"),
        (IdentityKind.PHONE, "phone"),
        (IdentityKind.EXTERNAL, "external_id"),
    ):
        if isinstance(sender.get(key), str) and sender[key].strip():
            identity = Identity(
                kind=kind, value=sender[key], display_name=_field(sender, "name", required=False)
            )
            break
    else:
        raise ParseError("“from” needs an email, phone or external_id.")
    text = _field(data, "text")
    if len(text) > MAX_TEXT:
        raise ParseError(f"“text” is longer than {MAX_TEXT} characters.")
    priority = _field(data, "priority", required=False) or None
    if priority is not None and priority not in Priority.values:
        raise ParseError(f"“priority” must be one of {', '.join(Priority.values)}.")
    received_at: datetime = timezone.now()
    if data.get("received_at"):
        received_at = _received_at(_field(data, "received_at"))
    ticket = data.get("ticket")
    if ticket is not None and (isinstance(ticket, bool) or not isinstance(ticket, int | str)):
        raise ParseError("“ticket” must be a ticket number.")
    return InboundMessage(
        channel=Channel.API,
        external_id=_field(data, "external_id", required=False).strip() or None,
        sender=identity,
        subject=_field(data, "subject", required=False)[:MAX_SUBJECT],
        text=text,
        html=None,
        received_at=received_at,
        ticket_reference=str(ticket) if ticket is not None else None,
        priority=priority,
    )
