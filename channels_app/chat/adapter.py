"""A chat visitor's message frame (as the consumer stored it) in, InboundMessage out."""

import json
from datetime import datetime

from django.utils import timezone

from channels_app.inbound import Identity, InboundMessage, ParseError
from tickets.models import Channel, IdentityKind

MAX_TEXT = 5000


# The RawInbound.adapter of this provider's payloads (the channel registry's key).
NAME = "chat"


def parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    """Fields: visitor (id), id (the client's message uuid), text, name, team_id; and for
    the offline form: offline (true) and email."""
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
    team_id = data.get("team_id")
    if data.get("offline"):
        return _offline(data, visitor, message_id, text, received_at, team_id)
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


def _offline(
    data: dict[str, object],
    visitor: str,
    message_id: str,
    text: str,
    received_at: datetime,
    team_id: object,
) -> InboundMessage:
    """No agent was online: the widget's message form, answered by email like a web form."""
    email = str(data.get("email") or "").strip()
    if not email:
        raise ParseError("A message left while no one is online needs an email address.")
    name = str(data.get("name") or "")
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return InboundMessage(
        channel=Channel.WEB,
        external_id=f"chatform:{visitor}:{message_id}"[:500],
        sender=Identity(kind=IdentityKind.EMAIL, value=email, display_name=name),
        subject=f"Chat message: {first_line[:60]}",
        text=text,
        html=None,
        received_at=received_at,
        team_id=team_id if isinstance(team_id, int) else None,
        meta={"source": "chat-offline"},
    )
