"""Twilio's inbound SMS webhook: a url-encoded form in, InboundMessage out. No database.

The webhook view stores the form as received and adds what it looked up in `meta`:
team_id (the receiving number's team) and thread_window_days.
"""

from datetime import timedelta
from urllib.parse import parse_qs

from django.utils import timezone

from channels_app.inbound import Identity, InboundMessage, ParseError
from tickets.models import Channel, IdentityKind

# Carrier-standard keywords (CTIA); matched on the whole trimmed body, any case.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
MAX_MEDIA = 10  # Twilio's limit per message


def opt_keyword(text: str) -> str | None:
    """'out', 'in' or None for a message body."""
    word = text.strip().strip(".!").upper()
    if word in OPT_OUT_KEYWORDS:
        return "out"
    if word in OPT_IN_KEYWORDS:
        return "in"
    return None


def form_fields(payload: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(payload.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise ParseError(f"The form is not UTF-8: {exc}") from exc
    return {key: values[-1] for key, values in parsed.items()}


def media_links(fields: dict[str, str]) -> list[tuple[str, str]]:
    """(url, content type) of each media item the message carries."""
    try:
        count = int(fields.get("NumMedia", "0") or "0")
    except ValueError as exc:
        raise ParseError(f"NumMedia “{fields.get('NumMedia')}” is not a number.") from exc
    links = []
    for index in range(min(max(count, 0), MAX_MEDIA)):
        url = fields.get(f"MediaUrl{index}", "").strip()
        if url.startswith(("https://", "http://")):
            links.append((url, fields.get(f"MediaContentType{index}", "").strip()))
    return links


# The RawInbound.adapter of this provider's payloads (the channel registry's key).
NAME = "twilio_sms"


def parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    fields = form_fields(payload)
    sid = fields.get("MessageSid", "").strip() or fields.get("SmsSid", "").strip()
    if not sid:
        raise ParseError("The form has no MessageSid, so it is not a Twilio message.")
    sender = fields.get("From", "").strip()
    if not sender:
        raise ParseError("The form has no From number.")
    body = fields.get("Body", "")
    links = media_links(fields)
    text = body
    if links:
        # Recorded as links at once; a task fetches them into attachments with the
        # account's credentials (Twilio media URLs need them).
        listing = "\n".join(f"Media: {url}" for url, _ in links)
        text = f"{body}\n\n{listing}" if body.strip() else listing
    if not text.strip():
        raise ParseError("The message has neither text nor media.")
    team_id = meta.get("team_id", "")
    window_days = meta.get("thread_window_days", "")
    return InboundMessage(
        channel=Channel.SMS,
        external_id=sid,
        sender=Identity(kind=IdentityKind.PHONE, value=sender),
        subject="",
        text=text,
        html=None,
        received_at=timezone.now(),
        # STOP/START are stored for the record but neither reopen nor expect an answer.
        is_automated=opt_keyword(body) is not None,
        team_id=int(team_id) if team_id.isdigit() else None,
        join_open_ticket=True,
        join_window=timedelta(days=int(window_days)) if window_days.isdigit() else None,
        meta={"to": fields.get("To", "").strip()},
    )
