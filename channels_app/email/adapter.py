"""RFC 5322 mail in, InboundMessage out. No database access: what the adapter needs to
know about our mailboxes comes in `meta` (see channels_app.email.inbound.email_meta).

meta keys: own_addresses (comma-separated, lowercased), cc_followers ("0"/"1"),
team_id, received_at (ISO 8601), recipient (envelope recipient, optional).
"""

import hashlib
import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry, MessageIDHeader, UnstructuredHeader
from email.message import Message
from email.parser import BytesParser, Parser
from email.utils import getaddresses, parseaddr
from functools import lru_cache

import charset_normalizer
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channels_app.inbound import Identity, InboundMessage, IncomingFile, ParseError
from tickets.models import Channel, IdentityKind
from tickets.safe_names import safe_filename

MAX_TEXT_CHARS = 1_000_000
MAX_THREAD_HINTS = 50
MAX_FOLLOWERS = 20
MAX_PARTS = 500  # a message with more MIME parts than this is read up to here

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,490}>")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")
_PLUS_TOKEN = re.compile(r"^[^+@\s]+\+([A-Za-z0-9]{8,32})@(.+)$")
# Reply/forward prefixes in the languages our customers write in, repeated and mixed:
# "Re: AW: Fwd[2]: ..." -> "...". English, German, Scandinavian, Finnish, Dutch, French,
# Spanish/Portuguese/Italian, Polish, Chinese (full-width colon too).
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|vb|antw|antwort|doorst|tr|rv|enc|res|odp|pd|r|i|"
    r"回复|回覆|答复|转发|轉寄)\s*(?:\[\d+\]|\(\d+\))?\s*[:\uff1a]\s*)+",
    re.IGNORECASE,
)
_OOO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|respuesta automática|risposta automatica|"
    r"frånvaro|fravær|poza biurem|自动回复)\b",
    re.IGNORECASE,
)
_AUTOMATED_SENDERS = ("mailer-daemon", "postmaster", "noreply-dmarc-support")
_AUTOMATED_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_UTF8_FIRST = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}


_REGISTRY = HeaderRegistry()
_CACHED_HEADER_CHARS = 2000


@lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> BaseHeader:
    return _REGISTRY(name, value)


def _header_factory(name: str, value: str) -> BaseHeader:
    """policy.default's header registry parses a header afresh on every read of it (and
    builds a class per call), and reading a part's content type, disposition, filename
    and charset reads Content-Type and Content-Disposition again each time. The parsed
    headers are immutable values: each distinct short (name, value) is parsed once."""
    if len(value) > _CACHED_HEADER_CHARS:
        return _REGISTRY(name, value)
    return _parsed_header(name, value)


# policy.default with the caching header factory: the same parse, the same results.
POLICY = policy.default.clone(header_factory=_header_factory)


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    files: list[IncomingFile] = field(default_factory=list)
    bounce_message_id: str = ""
    bounce_recipient: str = ""
    bounce_action: str = ""
    parts: int = 0


# The RawInbound.adapter of this provider's payloads (the channel registry's key).
NAME = "email"


def parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    try:
        return _parse(payload, meta)
    except ParseError:
        raise
    except Exception as exc:
        # Whatever the mail does to the parser, it is quarantined (stored, visible to an
        # admin), never retried forever: a poison message must not block its mailbox.
        raise ParseError(
            f"The message could not be read ({exc.__class__.__name__}: {exc}). It is kept "
            "as received; process it again from the admin after a fix."
        ) from exc


def _parse(payload: bytes, meta: dict[str, str]) -> InboundMessage:
    limit = settings.HELPDESK_EMAIL_MAX_BYTES
    if len(payload) > limit:
        # Checked before parsing: the cost of a message is bounded by its size.
        raise ParseError(
            f"The message is {len(payload) / 1_048_576:.1f} MB, over the "
            f"{limit / 1_048_576:.0f} MB limit. Raise HELPDESK_EMAIL_MAX_BYTES and process "
            "it again from the admin, or ask the sender for a smaller one."
        )
    if not payload.strip():
        raise ParseError("The message is empty.")
    msg = BytesParser(policy=POLICY).parsebytes(payload)
    if not any(_header(msg, name) for name in ("From", "Sender", "Return-Path")):
        raise ParseError("This is not an email: it has no From, Sender or Return-Path header.")

    own = {a for a in meta.get("own_addresses", "").lower().split(",") if a}
    sender = _sender(msg)
    if plus_base(sender.value) in own:
        raise ParseError(
            f"The mail comes from our own mailbox address {sender.value}; it is not made into a "
            "ticket so that our mail cannot loop. Check the mailbox's forwarding rules."
        )
    body = _Body()
    _walk(msg, body, depth=0)
    html = "".join(body.htmls) or None
    text = "\n\n".join(t.strip("\n") for t in body.texts if t.strip())
    if html is not None and len(html) > settings.HELPDESK_EMAIL_MAX_HTML_BYTES:
        # Bounded cost: a huge HTML body is not sanitized; readable text stands in.
        if not text.strip():
            text = _cheap_text(html)
        body.files.append(IncomingFile("original-message.html", "text/html", html.encode()))
        html = None
    if len(text) > MAX_TEXT_CHARS:
        body.files.append(IncomingFile("full-message.txt", "text/plain", text.encode()))
        text = text[:MAX_TEXT_CHARS] + "\n\n[… shortened; the full text is attached]"

    raw_subject = _header(msg, "Subject")
    subject = normalize_subject(raw_subject)
    message_id = _message_id(_header(msg, "Message-ID"))
    hints = _thread_hints(msg)
    if body.bounce_message_id and body.bounce_message_id not in hints:
        hints = (body.bounce_message_id, *hints)
    reasons = automated_reasons(msg, sender.value, raw_subject)
    if body.bounce_message_id:
        reasons.append("bounce")
    out_meta = {"original_subject": raw_subject[:1000]}
    if reasons:
        out_meta["automated"] = ",".join(reasons)
    if body.bounce_message_id and body.bounce_action in ("", "failed"):
        out_meta["bounce_message_id"] = body.bounce_message_id
        out_meta["bounce_recipient"] = body.bounce_recipient
    external_id = message_id or _content_hash(sender.value, msg, raw_subject, text, html)
    return InboundMessage(
        channel=Channel.EMAIL,
        external_id=external_id,
        sender=sender,
        subject=subject,
        text=text,
        html=html,
        received_at=_received_at(meta),
        thread_hints=hints[:MAX_THREAD_HINTS],
        ticket_reference=_ticket_reference(msg, meta, own, raw_subject),
        attachments=tuple(body.files),
        cc=_followers(msg, meta, own, sender.value),
        rfc_message_id=message_id,
        is_automated=bool(reasons),
        team_id=int(meta["team_id"]) if meta.get("team_id", "").isdigit() else None,
        meta=out_meta,
    )


# --- headers ----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _verbatim(name: str) -> bool:
    """Whether the registry's reading of this header equals its unfolded text when that
    text is plain ASCII without encoded words (unstructured headers and Message-ID)."""
    return issubclass(_REGISTRY[name.lower()], UnstructuredHeader | MessageIDHeader)


def _header(msg: Message, name: str) -> str:
    """A header as text, never raising: malformed headers fall back to their raw form."""
    if _verbatim(name):
        # Most headers are plain ASCII: their text is the header, unfolded, and the
        # registry's parse (the costliest part of reading a message) would return it as is.
        lowered = name.lower()
        raw = next((v for k, v in msg.raw_items() if k.lower() == lowered), None)
        if raw is None:
            return ""
        if isinstance(raw, str) and raw.isascii() and "=?" not in raw:
            return raw.replace("\r", "").replace("\n", "").strip()
    try:
        value = msg.get(name)
        return "" if value is None else str(value).strip()
    except Exception:  # the policy's parser gave up on a broken header
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return str(raw).strip()
        return ""


def _addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in names:
        lowered = name.lower()
        raws = [v for k, v in msg.raw_items() if k.lower() == lowered]
        if all(isinstance(v, str) and v.isascii() and "=?" not in v for v in raws):
            # Plain ASCII: getaddresses reads it as it is; the registry's parse of an
            # address header (its costliest) would only be read by getaddresses again.
            values = [v.replace("\r", "").replace("\n", "") for v in raws]
        else:
            values = []
        try:
            if not values and raws:
                values = [str(h) for h in msg.get_all(name) or []]
        except Exception:  # a broken address header: read it the lenient way
            values = [str(raw) for raw in raws]
        for display, address in getaddresses(values):
            if "@" in address:
                found.append((display.strip(), address.strip()))
    return found


def _sender(msg: Message) -> Identity:
    for name in ("From", "Sender", "Return-Path"):
        found = _addresses(msg, name)
        if found and _PLAIN_ADDRESS.fullmatch(found[0][1]):
            display, address = found[0]
            return Identity(kind=IdentityKind.EMAIL, value=address, display_name=display[:200])
        # A mangled header ("Broken <lee@example.com): the address is still in there.
        loose = _PLAIN_ADDRESS.search(_header(msg, name)) or _PLAIN_ADDRESS.search(
            parseaddr(_header(msg, name))[1]
        )
        if loose:
            return Identity(kind=IdentityKind.EMAIL, value=loose.group(0))
    raise ParseError("The sender's address cannot be read from From, Sender or Return-Path.")


def plus_base(address: str) -> str:
    """The address without its plus tag: support+token@example.com is support@example.com."""
    local, _, domain = address.strip().strip("<>").lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _message_id(value: str) -> str:
    # Some clients omit the angle brackets; the id is still the id.
    bare = value.strip()
    if bare and "<" not in bare and " " not in bare and "@" in bare and len(bare) < 490:
        return f"<{bare}>"
    return _first_id(value)


def _first_id(value: str) -> str:
    match = _MESSAGE_ID.search(value)
    return match.group(0) if match else ""


def _thread_hints(msg: Message) -> tuple[str, ...]:
    hints: list[str] = []
    for value in (
        _header(msg, "In-Reply-To"),
        *reversed(_MESSAGE_ID.findall(_header(msg, "References"))),
    ):
        for mid in _MESSAGE_ID.findall(value):
            if mid not in hints:
                hints.append(mid)
    return tuple(hints)


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes or our ticket token, for display."""
    cleaned = " ".join(subject.split())
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _PREFIX.sub("", cleaned)
        cleaned = _SUBJECT_TOKEN.sub("", cleaned).strip()
    return cleaned[:255]


def _ticket_reference(msg: Message, meta: dict[str, str], own: set[str], subject: str) -> str:
    candidates = _addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To")
    if meta.get("recipient"):
        candidates.insert(0, ("", meta["recipient"]))
    for _, address in candidates:
        match = _PLUS_TOKEN.match(address.lower())
        if match is None:
            continue
        if not own or plus_base(address) in own:
            return match.group(1)
    token = _SUBJECT_TOKEN.search(subject)
    return token.group(1) if token else ""


def _followers(
    msg: Message, meta: dict[str, str], own: set[str], sender: str
) -> tuple[Identity, ...]:
    if meta.get("cc_followers", "1") == "0":
        return ()
    seen = {sender.lower()}
    followers = []
    for display, address in _addresses(msg, "To", "Cc"):
        lowered = address.lower()
        if lowered in seen or plus_base(lowered) in own:
            continue
        seen.add(lowered)
        followers.append(Identity(kind=IdentityKind.EMAIL, value=address, display_name=display))
    return tuple(followers[:MAX_FOLLOWERS])


def automated_reasons(msg: Message, sender: str, subject: str) -> list[str]:
    """Why this mail was sent by a machine (RFC 3834 and the de-facto markers), if it was."""
    reasons = []
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        reasons.append("auto-submitted")
    for name in ("X-Loop", "X-Autoreply", "X-Autorespond", "X-AutoReply-From", "List-Id"):
        if _header(msg, name):
            reasons.append(name.lower())
    suppress = _header(msg, "X-Auto-Response-Suppress").lower()
    if suppress and suppress != "none":
        reasons.append("x-auto-response-suppress")
    if _header(msg, "Precedence").lower() in _AUTOMATED_PRECEDENCE:
        reasons.append("precedence")
    if _header(msg, "X-MS-Exchange-Inbox-Rules-Loop") or _OOO_SUBJECT.match(subject):
        reasons.append("out-of-office")
    if msg.get_content_type() == "multipart/report":
        reasons.append("report")
    if sender.split("@", 1)[0].lower() in _AUTOMATED_SENDERS:
        reasons.append("mailer-daemon")
    if _header(msg, "Return-Path") == "<>":
        reasons.append("null-sender")
    return reasons


def _content_hash(sender: str, msg: Message, subject: str, text: str, html: str | None) -> str:
    # No Message-ID: the same mail fetched twice still dedups on what it says.
    digest = hashlib.sha256(
        "\n".join([sender.lower(), _header(msg, "Date"), subject, text, html or ""]).encode(
            "utf-8", "surrogatepass"
        )
    ).hexdigest()
    return f"sha256:{digest}"


def _received_at(meta: dict[str, str]) -> datetime:
    parsed = parse_datetime(meta.get("received_at", "")) if meta.get("received_at") else None
    return parsed if parsed is not None and parsed.tzinfo is not None else timezone.now()


# --- bodies and parts -------------------------------------------------------------------


def _walk(part: Message, body: _Body, *, depth: int) -> None:
    body.parts += 1
    if body.parts > MAX_PARTS or depth > 20:
        return
    ctype = part.get_content_type()
    if ctype == "multipart/report":
        _read_report(part, body)
    if part.is_multipart() and ctype != "message/rfc822":
        children = _children(part)
        if ctype == "multipart/alternative":
            _walk_alternative(children, body, depth=depth)
            return
        for child in children:
            _walk(child, body, depth=depth + 1)
        return
    if ctype == "message/rfc822":
        _attach_forwarded(part, body)
        return
    if ctype in ("message/delivery-status", "text/rfc822-headers"):
        return  # read by _read_report; the human part of a bounce is its text part
    disposition = part.get_content_disposition()
    filename = part.get_filename()
    if ctype == "text/plain" and disposition != "attachment" and not filename:
        body.texts.append(decode_text(part))
    elif ctype == "text/html" and disposition != "attachment" and not filename:
        body.htmls.append(decode_text(part))
    else:
        _attach(part, body, filename)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk_alternative(children: list[Message], body: _Body, *, depth: int) -> None:
    # Keep one text and one HTML rendering (the richest of each); calendar invites and
    # anything else the sender offered become attachments.
    texts_before, htmls_before = len(body.texts), len(body.htmls)
    for child in children:
        ctype = child.get_content_type()
        if ctype == "text/plain" and len(body.texts) > texts_before:
            continue
        if ctype == "text/html" and len(body.htmls) > htmls_before:
            continue
        _walk(child, body, depth=depth + 1)


def decode_text(part: Message) -> str:
    """A text part as str, whatever charset it declares (or wrongly declares)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        text = raw if isinstance(raw, str) else ""
    else:
        text = decode_bytes(data, (part.get_content_charset() or "").lower())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, declared: str) -> str:
    # Mail that says latin-1 or ascii but is valid UTF-8 is UTF-8 (a common mislabel);
    # real latin-1 text with accents is almost never valid UTF-8.
    if not declared or declared in _UTF8_FIRST:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared and declared not in ("us-ascii", "ascii"):
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    # Unknown or wrong charset: detect on a bounded sample, then decode all of it. Short
    # Western text often fits several single-byte charsets about equally well; among
    # near-ties windows-1252, by far the most common legacy charset in mail, wins.
    matches = list(charset_normalizer.from_bytes(data[:65536]))
    encoding = "utf-8"
    if matches:
        best = min(m.chaos for m in matches)
        close = [m.encoding for m in matches if m.chaos <= best + 0.05]
        encoding = "cp1252" if "cp1252" in close else matches[0].encoding
    return data.decode(encoding, errors="replace")


def _attach(part: Message, body: _Body, filename: str | None) -> None:
    try:
        content = part.get_payload(decode=True)
    except Exception:
        content = None
    if not isinstance(content, bytes):
        return
    ctype = part.get_content_type()
    name = filename or ""
    if ctype == "text/calendar" and not name:
        name = "invite.ics"
    if not name:
        subtype = ctype.split("/", 1)[-1]
        ext = subtype if subtype.isalnum() and len(subtype) <= 5 else "bin"
        name = f"{'image' if ctype.startswith('image/') else 'attachment'}.{ext}"
    content_id = _header(part, "Content-ID").strip().strip("<>").strip()
    body.files.append(
        IncomingFile(
            filename=safe_filename(name),
            content_type=ctype,
            content=content,
            content_id=content_id[:255],
        )
    )


def _attach_forwarded(part: Message, body: _Body) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return
    try:
        content = inner.as_bytes(policy=policy.SMTP)
    except Exception:  # a broken forwarded message is kept as the text we can read
        content = inner.as_string(policy=policy.compat32).encode("utf-8", "replace")
    name = safe_filename(f"{normalize_subject(_header(inner, 'Subject')) or 'forwarded'}.eml")
    body.files.append(IncomingFile(filename=name, content_type="message/rfc822", content=content))


def _read_report(part: Message, body: _Body) -> None:
    """Take the bounced message's Message-ID and recipient from a DSN (RFC 3464)."""
    for child in _children(part):
        ctype = child.get_content_type()
        if ctype == "message/delivery-status":
            for block in _children(child):
                recipient = _header(block, "Final-Recipient") or _header(
                    block, "Original-Recipient"
                )
                if recipient and not body.bounce_recipient:
                    body.bounce_recipient = recipient.split(";", 1)[-1].strip()
                action = _header(block, "Action").lower()
                if action and not body.bounce_action:
                    body.bounce_action = action
        elif ctype == "message/rfc822":
            inner = _children(child)
            if inner:
                body.bounce_message_id = _first_id(_header(inner[0], "Message-ID"))
        elif ctype == "text/rfc822-headers":
            headers = Parser(policy=POLICY).parsestr(decode_text(child), headersonly=True)
            body.bounce_message_id = _first_id(_header(headers, "Message-ID"))


_TAG = re.compile(r"<[^>]{0,2000}>")
_SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _cheap_text(html: str) -> str:
    text = _SCRIPT.sub(" ", html[: settings.HELPDESK_EMAIL_MAX_HTML_BYTES * 4])
    text = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>|</li\s*>", "\n", text)
    text = html_lib.unescape(_TAG.sub("", text))
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


_HEADER_BLOCK_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(rb"\r?\n[ \t]+")
_ID_HEADERS = {"message-id", "in-reply-to", "references", "resent-message-id"}
_ADDRESS_HEADERS = {"from", "sender", "reply-to", "to", "cc", "delivered-to", "x-original-to"}
_LANE_HEADER_BYTES = 256 * 1024


def lane_keys(payload: bytes, own: set[str]) -> set[str]:
    """What ties this message to others in the same batch, read cheaply from the raw
    header block: every Message-ID it names (its own and those it answers), every
    address on it but ours, and a ticket reference in its subject or plus-address.
    Messages sharing a key are ingested in order, one after the other (ingest_lanes)."""
    head = payload[:_LANE_HEADER_BYTES]
    end = _HEADER_BLOCK_END.search(head)
    if end is not None:
        head = head[: end.start()]
    keys: set[str] = set()
    for line in _FOLD.sub(b" ", head).decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        if name in _ID_HEADERS:
            keys.update(f"id:{found}" for found in _MESSAGE_ID.findall(value))
        elif name in _ADDRESS_HEADERS:
            for found in _PLAIN_ADDRESS.findall(value):
                address = found.lower()
                plus = _PLUS_TOKEN.match(address)
                if plus is not None:
                    keys.add(f"ref:{plus.group(1)}")
                if address not in own and plus_base(address) not in own:
                    keys.add(f"addr:{address}")
        elif name == "subject":
            keys.update(f"ref:{token}" for token in _SUBJECT_TOKEN.findall(value))
    return keys
