"""Domain events: what happened to tickets, customers and their messages.

The core's services publish them; everything that *reacts* (live updates, notification
mail, SLA recompute, automation rules, outgoing webhooks, report rollups) subscribes
here, so a new reaction is a new subscriber, never another call inside a service.

Events are frozen dataclasses of ids, values and times, never ORM objects: a subscriber
that runs after commit, in a task or in another process reads what it needs itself.

A subscriber runs in one of two phases:
- IN_TRANSACTION: at once, inside the service's transaction. For what must commit or
  roll back with the change (the SLA recompute, a per-ticket fact for reports). An error
  undoes the write.
- ON_COMMIT: after the transaction commits (at once outside one); never when it rolls
  back. For sends, broadcasts and webhooks, which should enqueue a task rather than do
  slow I/O. An error is logged and never undoes the write or stops another subscriber.

Subscribers register in their app's AppConfig.ready(); docs/architecture.md lists them.
"""

import enum
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


class Phase(enum.Enum):
    IN_TRANSACTION = "in_transaction"
    ON_COMMIT = "on_commit"


class ActorKind(models.TextChoices):
    AGENT = "agent", "Agent"
    CUSTOMER = "customer", "Customer"
    SYSTEM = "system", "System"
    API = "api", "API"


@dataclass(frozen=True)
class Actor:
    """Who caused the event: an agent (user id), a customer (identity id), the system
    (timers, rules) or an integration through the API (the token's owner)."""

    kind: str
    user_id: int | None = None
    identity_id: int | None = None

    @classmethod
    def system(cls) -> "Actor":
        return cls(kind=ActorKind.SYSTEM)


@dataclass(frozen=True)
class DomainEvent:
    actor: Actor
    at: datetime = field(default_factory=timezone.now, kw_only=True)

    def __post_init__(self) -> None:
        # An ORM object would be read stale after commit, or not at all in another
        # process: events carry ids.
        for f in fields(self):
            if isinstance(getattr(self, f.name), models.Model):
                raise TypeError(f"{type(self).__name__}.{f.name} must be an id, not a model")


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class TicketCreated(DomainEvent):
    ticket_id: int
    customer_id: int
    channel: str
    team_id: int | None = None
    assignee_id: int | None = None


@dataclass(frozen=True)
class TicketChanged(DomainEvent):
    """Fields of one ticket changed: status, priority, assignee, team, tags, subject,
    followers.

    Tags are compared as sorted tuples of names, followers as sorted tuples of identity
    ids; people and teams by id. `team_id` and `assignee_id` are the ticket's after the
    change (the queues it is in now; a team or assignee change holds the previous one)."""

    ticket_id: int
    changes: tuple[FieldChange, ...]
    team_id: int | None = None
    assignee_id: int | None = None

    def change(self, name: str) -> FieldChange | None:
        return next((c for c in self.changes if c.field == name), None)

    @property
    def changed_fields(self) -> frozenset[str]:
        return frozenset(c.field for c in self.changes)


@dataclass(frozen=True)
class MessageAdded(DomainEvent):
    """A message joined a ticket's history. A public agent reply names the addresses it
    is for (`recipients`, in order, each once): the outbox writes one delivery each.
    `opens_ticket`: the first message of a ticket created with it (TicketCreated came
    just before); `team_id` and `assignee_id` are the ticket's."""

    ticket_id: int
    message_id: int
    channel: str
    direction: str  # inbound / outbound
    is_internal: bool
    recipients: tuple[str, ...] = ()
    opens_ticket: bool = False
    team_id: int | None = None
    assignee_id: int | None = None


@dataclass(frozen=True)
class TicketMerged(DomainEvent):
    source_ticket_id: int
    target_ticket_id: int


@dataclass(frozen=True)
class CustomerMerged(DomainEvent):
    """The source's identities moved to the target, and its tickets (`ticket_ids`)."""

    source_customer_id: int
    target_customer_id: int
    ticket_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CustomerErased(DomainEvent):
    """A customer's personal data was erased (tickets.privacy.customer_erase), published
    inside its transaction. `customer_ids` are the erased record and every record merged
    into it; `identities` are the (kind, value) pairs that were deleted and `ticket_ids`
    the tickets kept as anonymous skeletons, so a subscriber can find what it holds about
    the person (raw payloads, outbox rows, sessions) before the transaction commits."""

    customer_id: int
    customer_ids: tuple[int, ...]
    identities: tuple[tuple[str, str], ...]
    ticket_ids: tuple[int, ...]
    message_ids: tuple[int, ...]


@dataclass(frozen=True)
class CustomerExported(DomainEvent):
    """A customer's personal data was exported (tickets.privacy.customer_export_archive)."""

    customer_id: int
    include_internal: bool


@dataclass(frozen=True)
class SlaWarning(DomainEvent):
    ticket_id: int
    target: str  # first_response / next_response / resolution
    due_at: datetime


@dataclass(frozen=True)
class SlaBreached(DomainEvent):
    """A clock passed its due time: published in the timer's transaction, after the
    record's breach mark (`breached_at` = `at`) and the ticket's next check are saved.
    `raise_priority` and `escalate_to_team_id` are what the clock's policy asks for on a
    breach (the tick has the policy in hand; its subscriber then needs no read)."""

    ticket_id: int
    target: str
    due_at: datetime
    record_id: int | None = None
    raise_priority: bool = False
    escalate_to_team_id: int | None = None


@dataclass(frozen=True)
class SlaNoticeDue(DomainEvent):
    """A breach's notice may go now (at once, or at the next business opening): published
    inside the transaction that claims it, so a subscriber's outbox row commits with the
    claim or not at all."""

    ticket_id: int
    record_id: int
    target: str
    due_at: datetime | None


@dataclass(frozen=True)
class SatisfactionRated(DomainEvent):
    ticket_id: int
    rating_id: int
    score: int


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], None]


@dataclass(frozen=True)
class Subscription:
    event_type: type[DomainEvent]
    handler: Handler
    phase: Phase
    name: str


_subscriptions: dict[str, Subscription] = {}
# Per event type, its subscriptions: publish runs on every ingested message, so the
# matching is done once per type, not per event.
_by_type: dict[type[DomainEvent], list[Subscription]] = {}


def _name_of(handler: Handler) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"


def subscribe(event_type: type[E], handler: Callable[[E], None], *, phase: Phase) -> None:
    """Call `handler(event)` for every published `event_type` (or subclass) in `phase`.

    Idempotent per handler and event type: ready() may run more than once."""
    name = _name_of(handler)
    key = f"{event_type.__name__}:{name}"
    _subscriptions[key] = Subscription(event_type, handler, phase, name)
    _by_type.clear()


def unsubscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    _subscriptions.pop(f"{event_type.__name__}:{_name_of(handler)}", None)
    _by_type.clear()


def subscriptions(event_type: type[DomainEvent] | None = None) -> list[Subscription]:
    """Every subscription (for one event type and its bases), in registration order."""
    if event_type is None:
        return list(_subscriptions.values())
    found = _by_type.get(event_type)
    if found is None:
        found = [s for s in _subscriptions.values() if issubclass(event_type, s.event_type)]
        _by_type[event_type] = found
    return list(found)


def publish(event: DomainEvent) -> None:
    """Hand `event` to its subscribers: in-transaction ones now, the rest on commit."""
    for sub in subscriptions(type(event)):
        if sub.phase is Phase.IN_TRANSACTION:
            sub.handler(event)
        else:
            transaction.on_commit(partial(_run_after_commit, sub, event))
    for capture in _captures:
        capture.append(event)


def _run_after_commit(sub: Subscription, event: DomainEvent) -> None:
    try:
        sub.handler(event)
    except Exception:
        # The change is committed; one reaction failing must not undo it or stop the
        # next. Subscribers that must happen enqueue a task, which retries.
        logger.exception("subscriber %s failed on %s", sub.name, type(event).__name__)


_captures: list[list[DomainEvent]] = []


@contextmanager
def events_captured() -> Iterator[list[DomainEvent]]:
    """Tests: every event published inside the block, in order."""
    captured: list[DomainEvent] = []
    _captures.append(captured)
    try:
        yield captured
    finally:
        _captures.remove(captured)
