"""What the timeline shows of an email: the new words, without quoted history or the
signature. Display only: the stored body_text (and the raw message) stay complete."""

from email_reply_parser import EmailReplyParser

from tickets.models import Channel, Direction, Message

# Past this the parser's line-by-line scan costs more than it saves; show everything.
MAX_STRIP_CHARS = 200_000


def email_display_text(text: str) -> str:
    """The reply part of `text`. Never loses the customer's words: when stripping would
    leave nothing (a reply written below the quote, or only a quote), the full text."""
    if not text.strip() or len(text) > MAX_STRIP_CHARS:
        return text
    try:
        reply = EmailReplyParser.parse_reply(text)
    except Exception:  # a parser bug must never hide a message
        return text
    return reply.strip() or text


def message_display_text(message: Message) -> str:
    if message.channel == Channel.EMAIL and message.direction == Direction.INBOUND:
        return email_display_text(message.body_text)
    return message.body_text


def message_has_hidden_text(message: Message) -> bool:
    """Whether the timeline shows less than the full text (offer "show full message")."""
    return message_display_text(message).strip() != message.body_text.strip()
