"""What the timeline shows of an email: the new words, without quoted history or the
signature. Display only: the stored body_text (and the raw message) stay complete."""

from django.urls import reverse
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


def message_display_html(message: Message) -> str:
    """The stored (sanitized) HTML with inline images pointing at their attachments.

    Only `cid:` references to this message's own attachments are rewritten, to our own
    download URL, so the result is as safe as the sanitized input. Uses
    message.attachments.all(): prefetch it when rendering a list.
    """
    html = message.body_html
    if "cid:" not in html:
        return html
    for attachment in message.attachments.all():
        if attachment.content_id:
            url = reverse("tickets:attachment-download", args=[attachment.pk])
            html = html.replace(f'"cid:{attachment.content_id}"', f'"{url}"')
    return html
