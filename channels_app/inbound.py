"""The one normalized shape every adapter produces and ingest consumes."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Identity:
    kind: str  # tickets.models.IdentityKind value
    value: str  # raw; ingest normalizes it
    display_name: str = ""


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # tickets.models.Channel value
    external_id: str | None  # the provider's id: the idempotency key
    sender: Identity
    subject: str
    text: str
    html: str | None
    received_at: datetime
    # Message-IDs this one replies to (In-Reply-To first, then References newest first).
    thread_hints: tuple[str, ...] = ()
    # An explicit reference: a ticket number ("1234") or a ticket reply token.
    ticket_reference: str | None = None
    attachments: tuple[IncomingFile, ...] = ()
    cc: tuple[Identity, ...] = ()
    rfc_message_id: str = ""
    # Auto-replies, bounces, list mail: stored on the ticket, never answered or reopening.
    is_automated: bool = False
    team_id: int | None = None
    priority: str | None = None
    # SMS and chat continue the customer's recent open ticket; email and web do not.
    join_open_ticket: bool = False
    # How recently that open ticket must have been active (None: the global default).
    join_window: timedelta | None = None
    meta: dict[str, str] = field(default_factory=dict)


class ParseError(Exception):
    """The payload cannot be read; it is quarantined with this message."""
