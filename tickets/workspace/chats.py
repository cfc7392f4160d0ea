"""Live chats waiting for an agent: the workspace header's counter.

A chat waits from the visitor's first message that no public agent reply has answered
yet, while its ticket is new or open. One query whatever the number of chats, over the
partial index `ticket_chat_working` (only active chat tickets) and each ticket's messages
by `message_timeline`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, DateTimeField, F, OuterRef, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce

from tickets.models import WORKING_STATUSES, Channel, Direction, Message, Ticket
from tickets.visibility import tickets_visible_to

WAITING_STATUSES = WORKING_STATUSES
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ChatsWaiting:
    count: int
    oldest_since: datetime | None  # when the longest-waiting visitor started waiting
    oldest_number: int | None  # that chat's ticket number

    def wait_seconds(self, *, now: datetime) -> int:
        if self.oldest_since is None:
            return 0
        return max(0, int((now - self.oldest_since).total_seconds()))


def chats_waiting_queryset(user: Any = None) -> QuerySet[Ticket]:
    """Active chat tickets whose last public message is the visitor's, annotated with
    `waiting_since`; only those `user` may see when given (tickets.visibility)."""
    public = Message.objects.filter(ticket=OuterRef("pk"), is_internal=False)
    newest = public.order_by("-created_at", "-id")
    return (
        (Ticket.objects.all() if user is None else tickets_visible_to(user))
        .filter(channel=Channel.CHAT, status__in=list(WAITING_STATUSES))
        .annotate(
            last_direction=Subquery(newest.values("direction")[:1]),
            last_reply_at=Subquery(
                newest.filter(direction=Direction.OUTBOUND).values("created_at")[:1]
            ),
        )
        .filter(last_direction=Direction.INBOUND)
        .annotate(
            waiting_since=Subquery(
                public.filter(
                    direction=Direction.INBOUND,
                    created_at__gt=Coalesce(
                        OuterRef("last_reply_at"), Value(_NEVER, output_field=DateTimeField())
                    ),
                )
                .order_by("created_at", "id")
                .values("created_at")[:1]
            )
        )
    )


def chats_waiting(user: Any = None) -> ChatsWaiting:
    """How many chats wait for a reply, and the one waiting longest (of those `user` may
    see, when given). One query: the count is a window over the same rows, so the number
    and the oldest wait are read together (every agent page shows them)."""
    waited = F("waiting_since")  # an annotation: F() keeps the stubs from looking it up
    oldest = (
        chats_waiting_queryset(user)
        .annotate(total=Window(Count("pk")))
        .order_by(waited.asc(), "pk")
        .values_list("number", waited, "total")
        .first()
    )
    if oldest is None:
        return ChatsWaiting(count=0, oldest_since=None, oldest_number=None)
    return ChatsWaiting(count=oldest[2], oldest_since=oldest[1], oldest_number=oldest[0])
