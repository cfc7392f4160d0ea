"""Conditions compiled once per rule set into predicates over a ticket's facts.

Facts are read lazily: a rule set that never asks for tags, the message or the customer's
domain costs no query for them, which keeps 200 triggers per event cheap."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from django.utils import timezone

from tickets.automation.rules import (
    CONDITION_FIELDS,
    NUMBER,
    ORGANIZATION,
    TEAM,
    USER,
    organization_resolve,
    team_resolve,
    user_resolve,
    words_of,
)
from tickets.domain_events import FieldChange
from tickets.models import (
    PRIORITY_RANK,
    Direction,
    IdentityKind,
    Message,
    SatisfactionRating,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.sla.calendar import ALWAYS_OPEN, Calendar, business_seconds_between, is_business_time
from tickets.sla.services import active_policies_cache, calendar_build

Predicate = Callable[["Facts"], bool]


def ticket_calendar(ticket: Ticket) -> Calendar:
    """The ticket's SLA calendar (its policy's business hours; 24/7 without one)."""
    if ticket.sla_policy_id is None:
        return ALWAYS_OPEN
    for policy in active_policies_cache.get():
        if policy.pk == ticket.sla_policy_id:
            return calendar_build(business_hours=policy.business_hours)
    return ALWAYS_OPEN


class Facts:
    """What conditions look at for one ticket at one moment. For a change event the
    changed fields read their new value (the publisher may not have saved it yet)."""

    def __init__(
        self,
        ticket: Ticket,
        *,
        changes: tuple[FieldChange, ...] = (),
        message_id: int | None = None,
        score: int | None = None,
        now: datetime | None = None,
    ) -> None:
        self.ticket = ticket
        self.changes = {c.field: c for c in changes}
        self.message_id = message_id
        self._score = score
        self.now = now or timezone.now()

    def value(self, field: str) -> Any:
        change = self.changes.get(field)
        if change is not None:
            return change.after
        if field in ("team", "assignee"):
            return getattr(self.ticket, f"{field}_id")
        return getattr(self.ticket, field)

    @cached_property
    def tags(self) -> set[str]:
        change = self.changes.get("tags")
        if change is not None:
            return set(change.after or ())
        return set(self.ticket.tags.values_list("name", flat=True))

    @cached_property
    def message(self) -> Message | None:
        messages = Message.objects.filter(ticket_id=self.ticket.pk)
        if self.message_id is not None:
            return messages.filter(pk=self.message_id).first()
        return messages.filter(direction=Direction.INBOUND).order_by("created_at", "id").first()

    @cached_property
    def body(self) -> str:
        return self.message.body_text if self.message else ""

    @property
    def message_direction(self) -> str | None:
        if self.message is None:
            return None
        return "internal" if self.message.is_internal else self.message.direction

    @property
    def author_kind(self) -> str | None:
        message = self.message
        if message is None:
            return None
        if message.direction == Direction.INBOUND:
            return "customer" if not message.is_automated else "system"
        return "agent" if message.author_user_id else "system"

    @cached_property
    def email_domain(self) -> str:
        emails = self.ticket.customer.identities.filter(kind=IdentityKind.EMAIL)
        address = emails.order_by("created_at", "id").values_list("value", flat=True).first()
        return address.rpartition("@")[2] if address else ""

    @cached_property
    def mailbox(self) -> str:
        first = (
            Message.objects.filter(ticket_id=self.ticket.pk, direction=Direction.INBOUND)
            .filter(raw__isnull=False)
            .order_by("created_at", "id")
            .values_list("raw__meta", flat=True)
            .first()
        )
        meta = first or {}
        return str(meta.get("recipient", "")).strip().lower() if isinstance(meta, dict) else ""

    @cached_property
    def score(self) -> int | None:
        if self._score is not None:
            return self._score
        return (
            SatisfactionRating.objects.filter(ticket_id=self.ticket.pk)
            .values_list("score", flat=True)
            .first()
        )

    @cached_property
    def calendar(self) -> Calendar:
        return ticket_calendar(self.ticket)

    @cached_property
    def status_changed_at(self) -> datetime:
        at = (
            TicketEvent.objects.filter(ticket_id=self.ticket.pk, kind="status")
            .order_by("-created_at", "-id")
            .values_list("created_at", flat=True)
            .first()
        )
        return at or self.ticket.created_at

    @cached_property
    def last_agent_reply_at(self) -> datetime | None:
        return (
            Message.objects.filter(
                ticket_id=self.ticket.pk, direction=Direction.OUTBOUND, is_internal=False
            )
            .order_by("-created_at", "-id")
            .values_list("created_at", flat=True)
            .first()
        )

    def since(self, field: str) -> datetime | None:
        """The instant an `hours_since_*` field counts from (None: it does not apply)."""
        ticket = self.ticket
        if field == "hours_since_created":
            return ticket.created_at
        if field == "hours_since_updated":
            return ticket.updated_at
        if field == "hours_since_status_changed":
            return self.status_changed_at
        if field == "hours_since_pending":
            return self.status_changed_at if ticket.status == Status.PENDING else None
        if field == "hours_since_solved":
            return ticket.solved_at if ticket.status == Status.SOLVED else None
        if field == "hours_since_customer_message":
            return ticket.last_inbound_at
        if field == "hours_since_agent_reply":
            return self.last_agent_reply_at
        raise KeyError(field)

    def hours(self, field: str, *, business: bool) -> float | None:
        if field == "hours_until_sla_due":
            due = self.ticket.sla_next_due_at
            if due is None:
                return None
            if due <= self.now:
                return -(self._span(due, self.now, business) / 3600)
            return self._span(self.now, due, business) / 3600
        start = self.since(field)
        if start is None:
            return None
        return self._span(start, self.now, business) / 3600

    def _span(self, start: datetime, end: datetime, business: bool) -> float:
        if not business:
            # In UTC: two times in the same zone subtract as wall clocks, which is an
            # hour off across a DST change.
            return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
        return business_seconds_between(self.calendar, start, end)


def _compare_text(operator: str, actual: str, expected: str) -> bool:
    actual_l, expected_l = actual.lower(), expected.lower()
    if operator == "is":
        return actual_l == expected_l
    if operator == "is_not":
        return actual_l != expected_l
    if operator == "contains":
        return expected_l in actual_l
    if operator == "not_contains":
        return expected_l not in actual_l
    if operator == "matches_word":
        return bool(words_of(expected) & words_of(actual)) if expected.strip() else False
    raise ValueError(operator)


def _rank(value: Any) -> int:
    return PRIORITY_RANK.get(value, -1)


def condition_compile(condition: Mapping[str, Any]) -> Predicate:
    """A predicate for one cleaned condition (rules.condition_clean). Names are resolved
    to ids here, once per rule set."""
    field: str = condition["field"]
    operator: str = condition["operator"]
    value: Any = condition.get("value")
    spec = CONDITION_FIELDS[field]
    if spec.kind == TEAM:
        value = team_resolve(value, path=field)
    elif spec.kind == USER:
        value = user_resolve(value, path=field)
    elif spec.kind == ORGANIZATION:
        value = organization_resolve(value, path=field)
    elif spec.kind == NUMBER:
        value = float(value)

    if operator in ("changed", "changed_to", "changed_from"):

        def changed(facts: Facts) -> bool:
            change = facts.changes.get(field)
            if change is None:
                return False
            if operator == "changed":
                return True
            side = change.after if operator == "changed_to" else change.before
            return bool(side == value)

        return changed

    if spec.time:
        business = condition.get("calendar") == "business"

        def hours(facts: Facts) -> bool:
            measured = facts.hours(field, business=business)
            if measured is None:
                return False
            return measured < value if operator == "less_than" else measured > value

        return hours

    if field == "tags":
        wanted = set(value)

        def tags(facts: Facts) -> bool:
            have = facts.tags
            if operator == "includes":
                return bool(have & wanted)
            if operator == "not_includes":
                return not have & wanted
            return wanted <= have  # contains: all of them

        return tags

    if field in ("subject", "body", "customer_email_domain", "mailbox"):
        reader: Callable[[Facts], str] = {
            "subject": lambda f: str(f.value("subject")),
            "body": lambda f: f.body,
            "customer_email_domain": lambda f: f.email_domain,
            "mailbox": lambda f: f.mailbox,
        }[field]
        return lambda facts: _compare_text(operator, reader(facts), str(value))

    if field == "business_hours":
        return lambda facts: is_business_time(facts.calendar, facts.now) is bool(value)

    reader_any: Callable[[Facts], Any]
    if field == "organization":
        reader_any = lambda f: f.ticket.customer.organization_id  # noqa: E731
    elif field == "message_direction":
        reader_any = lambda f: f.message_direction  # noqa: E731
    elif field == "author_kind":
        reader_any = lambda f: f.author_kind  # noqa: E731
    elif field == "satisfaction_score":
        reader_any = lambda f: f.score  # noqa: E731
    else:
        reader_any = lambda f: f.value(field)  # noqa: E731

    if operator == "is":
        return lambda facts: bool(reader_any(facts) == value)
    if operator == "is_not":
        return lambda facts: bool(reader_any(facts) != value)
    if field == "priority":
        expected = _rank(value)
        if operator == "less_than":
            return lambda facts: _rank(reader_any(facts)) < expected
        return lambda facts: _rank(reader_any(facts)) > expected

    def ordered(facts: Facts) -> bool:
        actual = reader_any(facts)
        if actual is None:
            return False
        return bool(actual < value if operator == "less_than" else actual > value)

    return ordered


def conditions_compile(conditions: Mapping[str, Any]) -> Predicate:
    all_of = [condition_compile(c) for c in conditions.get("all", [])]
    any_of = [condition_compile(c) for c in conditions.get("any", [])]

    def matches(facts: Facts) -> bool:
        if not all(p(facts) for p in all_of):
            return False
        return not any_of or any(p(facts) for p in any_of)

    return matches


def hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)
