"""A ticket's timeline as keyset pages: its messages and events interleaved in time order
(an event before a message of the same instant: the status change a reply made reads
before the reply), stable while new entries arrive since each page starts after the
last entry the previous one showed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from helpdesk.lib.cursors import key_cursor, key_from_cursor
from tickets.models import Message, Ticket, TicketEvent

_KIND = "timeline"
# The rank in the sort key (created_at, rank, id) that puts events first at one instant.
_EVENT, _MESSAGE = 0, 1


class InvalidTimelineCursor(ValueError):
    pass


@dataclass(frozen=True)
class TimelinePage:
    items: Sequence[Message | TicketEvent]
    next_cursor: str | None


def _rank(item: Message | TicketEvent) -> int:
    return _EVENT if isinstance(item, TicketEvent) else _MESSAGE


def _after(rank: int, at: datetime, last_rank: int, last_id: int) -> Q:
    """Rows of one rank whose sort key is past (at, last_rank, last_id)."""
    later = Q(created_at__gt=at)
    if rank > last_rank:
        return later | Q(created_at=at)
    if rank == last_rank:
        return later | Q(created_at=at, id__gt=last_id)
    return later


def _cursor_parse(cursor: str) -> tuple[datetime, int, int]:
    try:
        at, rank, pk = key_from_cursor(_KIND, cursor, parts=3)
        return datetime.fromisoformat(at), int(rank), int(pk)
    except ValueError as exc:
        raise InvalidTimelineCursor(
            "That page link is no longer valid. Start from the first page."
        ) from exc


def ticket_timeline_page(
    *,
    ticket: Ticket,
    include_internal: bool,
    cursor: str | None = None,
    limit: int = 50,
) -> TimelinePage:
    """Up to `limit` entries, oldest first; internal notes only with `include_internal`
    (agents; an integration that mirrors the conversation to the customer asks without).
    Three queries whatever the page size: messages (authors joined), their attachments,
    events (actors joined)."""
    messages: QuerySet[Message] = Message.objects.filter(ticket=ticket)
    if not include_internal:
        messages = messages.filter(is_internal=False)
    events: QuerySet[TicketEvent] = TicketEvent.objects.filter(ticket=ticket)
    if cursor:
        at, last_rank, last_id = _cursor_parse(cursor)
        messages = messages.filter(_after(_MESSAGE, at, last_rank, last_id))
        events = events.filter(_after(_EVENT, at, last_rank, last_id))
    merged: list[Message | TicketEvent] = [
        *messages.select_related("author_user", "author_identity")
        .prefetch_related("attachments")
        .order_by("created_at", "id")[: limit + 1],
        *events.select_related("actor").order_by("created_at", "id")[: limit + 1],
    ]
    merged.sort(key=lambda item: (item.created_at, _rank(item), item.pk))
    page = merged[:limit]
    next_cursor = None
    if len(merged) > limit:
        last = page[-1]
        next_cursor = key_cursor(_KIND, last.created_at.isoformat(), str(_rank(last)), str(last.pk))
    return TimelinePage(items=page, next_cursor=next_cursor)
