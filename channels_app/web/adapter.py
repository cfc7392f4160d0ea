"""The web form and portal: our own JSON in, InboundMessage out.

tickets.portal.services builds the payload; uploaded files are staged in the default storage
(they can be 10 MB each, too big to sit in the payload row) and referenced here by path
and SHA-256, which this parser checks. A missing or altered file is a ParseError, so the
submission is quarantined, never silently stored without it.
"""

import hashlib
import json
from datetime import datetime

from django.core.files.storage import default_storage
from django.utils.dateparse import parse_datetime

from channels_app.inbound import Identity, InboundMessage, IncomingFile, ParseError
from tickets.models import Channel, IdentityKind, Priority

STAGING_PREFIX = "inbound/web/"
MAX_SUBJECT = 255
MAX_TEXT = 200_000


def _text(data: dict[str, object], name: str, *, required: bool = False) -> str:
    value = data.get(name) or ""
    if not isinstance(value, str):
        raise ParseError(f"“{name}” must be a string.")
    if required and not value.strip():
        raise ParseError(f"“{name}” is required.")
    return value


def _file(entry: object) -> IncomingFile:
    if not isinstance(entry, dict):
        raise ParseError("Each attachment must be an object.")
    path = _text(entry, "path", required=True)
    if not path.startswith(STAGING_PREFIX) or ".." in path:
        raise ParseError(f"Attachment path “{path}” is outside the web staging area.")
    try:
        with default_storage.open(path, "rb") as fh:
            content = fh.read()
    except OSError as exc:
        raise ParseError(f"The staged attachment {path} is missing: {exc}") from exc
    if hashlib.sha256(content).hexdigest() != _text(entry, "sha256", required=True):
        raise ParseError(f"The staged attachment {path} does not match its checksum.")
    return IncomingFile(
        filename=_text(entry, "filename") or "attachment",
        content_type=_text(entry, "content_type") or "application/octet-stream",
        content=content,
    )


# The RawInbound.adapter of this provider's payloads (the channel registry's key).
NAME = "web"


def parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    """Fields: submission_id, email, name, subject, description, ticket_reference
    (a reply token, for portal replies), team_id, priority, received_at, attachments."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"The web payload is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("The web payload must be a JSON object.")
    text = _text(data, "description", required=True)[:MAX_TEXT]
    received = parse_datetime(_text(data, "received_at", required=True))
    if received is None or received.tzinfo is None:
        raise ParseError("“received_at” must be an ISO 8601 time with a timezone.")
    received_at: datetime = received
    priority = _text(data, "priority") or None
    if priority is not None and priority not in Priority.values:
        raise ParseError(f"“priority” must be one of {', '.join(Priority.values)}.")
    team_id = data.get("team_id")
    if team_id is not None and not isinstance(team_id, int):
        raise ParseError("“team_id” must be an integer.")
    attachments = data.get("attachments") or []
    if not isinstance(attachments, list):
        raise ParseError("“attachments” must be a list.")
    email = _text(data, "email", required=True)
    # The form's submission id makes a resubmitted form idempotent; the address is part of
    # the key so that a copied id can never land on someone else's ticket.
    owner = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
    return InboundMessage(
        channel=Channel.WEB,
        external_id=f"web:{_text(data, 'submission_id', required=True)}:{owner}",
        sender=Identity(
            kind=IdentityKind.EMAIL,
            value=email,
            display_name=_text(data, "name").strip(),
        ),
        subject=_text(data, "subject")[:MAX_SUBJECT],
        text=text,
        html=None,
        received_at=received_at,
        ticket_reference=_text(data, "ticket_reference") or None,
        attachments=tuple(_file(entry) for entry in attachments),
        team_id=team_id,
        priority=priority,
    )
