"""A chat visitor's message frame (as the consumer stored it) in, InboundMessage out."""

import json
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channels_app.inbound import Identity, InboundMessage, ParseError
from tickets.models import Channel, IdentityKind

MAX_TEXT = 5000


def parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    """Fields: visitor (id), id (the client's message uuid), text, name, team_id, sent_at."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"The chat frame is not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("The chat frame must be a JSON object.")
    visitor = str(data.get("visitor") or "").strip()
    message_id = str(data.get("id") or "").strip()
    text = data.get("text")
    if not visitor or not message_id:
        raise ParseError("The chat frame needs a visitor and a message id.")
    if not isinstance(text, str) or not text.strip():
        raise ParseError("The chat message is empty.")
    if len(text) > MAX_TEXT:
        raise ParseError(f"A chat message can be at most {MAX_TEXT} characters.")
    received_at: datetime = timezone.now()
    if isinstance(data.get("sent_at"), str):
        received_at = parse_datetime(data["sent_at"]) or received_at
    team_id = data.get("team_id")
    return InboundMessage(
        channel=Channel.CHAT,
        # The client's uuid scoped to its visitor: a resent frame dedups, and one visitor
        # cannot collide with (or probe) another's ids.
        external_id=f"{visitor}:{message_id}"[:500],
        sender=Identity(
            kind=IdentityKind.CHAT, value=visitor, display_name=str(data.get("name") or "")
        ),
        subject="",
        text=text,
        html=None,
        received_at=received_at,
        team_id=team_id if isinstance(team_id, int) else None,
        join_open_ticket=True,
    )
