"""A generated support history, played through the real services under a frozen clock,
and what it should give, written down by the generator as it goes (never read back from
the database): the reports' figures are checked against this.

Every action lands on a whole minute, so business time can be counted minute by minute
(`business_minutes_brute`) without the calendar code under test."""

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from channels_app.inbound import Identity, InboundMessage
from channels_app.ingest import inbound_message_ingest
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory, TeamFactory
from tickets.models import (
    BusinessHours,
    BusinessInterval,
    Channel,
    Direction,
    IdentityKind,
    Message,
    Priority,
    SlaPolicy,
    SlaTarget,
    Status,
    Ticket,
)
from tickets.portal.services import satisfaction_rating_submit
from tickets.services import (
    message_reply,
    note_add,
    ticket_create,
    ticket_merge,
    ticket_set_status,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Berlin moves its clocks forward on Sunday 29 March 2026: the history spans it. In UTC,
# so that adding and subtracting is in real time (an aware datetime's arithmetic within
# one tzinfo is wall-clock time).
FIRST_DAY = datetime(2026, 3, 25, tzinfo=BERLIN).astimezone(UTC)
DAYS = 9
OPEN_FROM, OPEN_UNTIL = 9 * 60, 17 * 60  # the office, Monday to Friday, Berlin time
CHANNELS = (Channel.EMAIL, Channel.WEB, Channel.API)


@dataclass
class Truth:
    ticket_id: int
    created_at: datetime
    channel: str
    team_id: int | None
    assignee_id: int | None
    priority: str
    replies: list[datetime] = field(default_factory=list)
    notes: int = 0
    solves: int = 0
    last_solve: datetime | None = None
    reopens: int = 0
    status: str = Status.NEW
    closed_at: datetime | None = None
    score: int | None = None
    merged: bool = False

    @property
    def first_reply(self) -> datetime | None:
        return min((at for at in self.replies if at >= self.created_at), default=None)

    @property
    def solved_at(self) -> datetime | None:
        return self.last_solve if self.status in (Status.SOLVED, Status.CLOSED) else None


@dataclass
class History:
    truths: dict[int, Truth]
    agents: list[Any]
    teams: list[Any]
    policy: SlaPolicy


def business_minutes_brute(start: datetime, end: datetime) -> float:
    """Minutes from start to end that fall on a weekday 09:00-17:00 in Berlin."""
    count, at = 0, start.astimezone(UTC)
    end = end.astimezone(UTC)
    while at < end:
        local = at.astimezone(BERLIN)
        minute = local.hour * 60 + local.minute
        if local.weekday() < 5 and OPEN_FROM <= minute < OPEN_UNTIL:
            count += 1
        at += timedelta(minutes=1)
    return float(count)


def office_policy() -> SlaPolicy:
    office = BusinessHours.objects.create(name="Berlin office", timezone="Europe/Berlin")
    BusinessInterval.objects.bulk_create(
        BusinessInterval(calendar=office, weekday=day, start=time(9), end=time(17))
        for day in range(5)
    )
    policy = SlaPolicy.objects.create(name="Standard", order=10, business_hours=office)
    for priority in Priority.values:
        SlaTarget.objects.create(
            policy=policy,
            priority=priority,
            first_response_minutes=60,
            next_response_minutes=120,
            resolution_minutes=480,
        )
    return policy


def _customer_mail(truth: Truth, email: str, n: int) -> None:
    ticket = Ticket.objects.get(pk=truth.ticket_id)
    inbound_message_ingest(
        message=InboundMessage(
            channel=Channel.EMAIL,
            external_id=f"history-{truth.ticket_id}-{n}",
            sender=Identity(kind=IdentityKind.EMAIL, value=email, display_name=""),
            subject="Re: help",
            text="Still broken, please look again.",
            html=None,
            received_at=datetime.now(UTC),
            ticket_reference=ticket.reply_token,
        )
    )


def history_play(*, seed: int, tickets: int) -> History:
    """`tickets` tickets with replies, notes, automated mail, solves, reopens by agents and
    by customers, pending spells, closes, ratings (some changed) and merges."""
    rng = random.Random(seed)
    policy = office_policy()
    agents = [AgentFactory(username=f"history-agent-{n}") for n in range(3)]
    teams = [TeamFactory(name=f"History team {n}") for n in range(2)]
    truths: dict[int, Truth] = {}
    emails: dict[int, str] = {}
    traveller = time_machine.travel(FIRST_DAY, tick=False)
    clock = traveller.start()
    try:
        for n in range(tickets):
            at = FIRST_DAY + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
            clock.move_to(at)
            customer = CustomerFactory(name=f"History customer {n}")
            email = f"history{n}@example.com"
            IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value=email)
            team = rng.choice([None, *teams])
            assignee = rng.choice([None, *agents])
            priority = rng.choice(Priority.values)
            ticket = ticket_create(
                customer=customer,
                subject=f"Problem {n}",
                channel=rng.choice(CHANNELS),
                team=team,
                assignee=assignee,
                priority=priority,
            )
            truth = Truth(
                ticket_id=ticket.pk,
                created_at=at,
                channel=ticket.channel,
                team_id=team.pk if team else None,
                assignee_id=assignee.pk if assignee else None,
                priority=priority,
            )
            truths[ticket.pk], emails[ticket.pk] = truth, email
            for step in range(rng.randrange(0, 9)):
                if truth.status == Status.CLOSED:
                    break
                at += timedelta(minutes=rng.randrange(5, 900))
                clock.move_to(at)
                _act(rng, truth, agents[step % len(agents)], email, step, at)
        at += timedelta(days=DAYS + 1)
        _merge(rng, truths, agents[0], clock, at)
    finally:
        traveller.stop()
    return History(truths=truths, agents=agents, teams=teams, policy=policy)


def _act(rng: random.Random, truth: Truth, agent: Any, email: str, step: int, at: datetime) -> None:
    ticket = Ticket.objects.get(pk=truth.ticket_id)
    solved = truth.status == Status.SOLVED
    choice = rng.choice(
        ["reply", "reply", "note", "automated", "solve", "pending", "rate", "reopen", "close"]
    )
    if choice == "reply":
        message_reply(ticket=ticket, author=agent, body_text="Here is what to do.")
        truth.replies.append(at)
        if truth.status == Status.NEW:
            truth.status = Status.OPEN  # a reply opens a new ticket (see below)
    elif choice == "note":
        note_add(ticket=ticket, author=agent, body_text="Internal: checked the logs.")
        truth.notes += 1
    elif choice == "automated":
        # An acknowledgement or rule mail: outbound, automated, no author.
        Message.objects.create(
            ticket=ticket,
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            is_automated=True,
            body_text="We got your message.",
            created_at=at,
        )
    elif choice == "solve" and not solved:
        ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent)
        truth.status, truth.solves, truth.last_solve = Status.SOLVED, truth.solves + 1, at
    elif choice == "pending" and truth.status in (Status.NEW, Status.OPEN):
        ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent)
        truth.status = Status.PENDING
        if rng.random() < 0.5:  # the customer answers: back to open, not a reopen
            _customer_mail(truth, email, step)
            truth.status = Status.OPEN
    elif choice == "rate" and truth.status in (Status.SOLVED, Status.CLOSED):
        score = rng.randint(1, 5)
        satisfaction_rating_submit(ticket=ticket, customer_id=ticket.customer_id, score=score)
        truth.score = score
    elif choice == "reopen" and solved:
        if rng.random() < 0.5:
            ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent)
        else:
            _customer_mail(truth, email, step)
        truth.status, truth.reopens = Status.OPEN, truth.reopens + 1
    elif choice == "close" and truth.status != Status.CLOSED:
        ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent)
        if truth.status != Status.SOLVED:  # closing an unsolved ticket solves it
            truth.solves, truth.last_solve = truth.solves + 1, at
        truth.status, truth.closed_at = Status.CLOSED, at
    ticket.refresh_from_db()
    # A reply may take an unassigned ticket (a service rule, not the reports'): the facts
    # must follow the row.
    truth.assignee_id, truth.team_id = ticket.assignee_id, ticket.team_id
    # Whatever the services decided about a new ticket's status (a reply may open it),
    # the generator's own status only matters for solved/closed/pending, which it drives.
    if truth.status not in (Status.SOLVED, Status.CLOSED, Status.PENDING):
        truth.status = Status.OPEN if ticket.status != Status.NEW else Status.NEW


def _merge(
    rng: random.Random, truths: dict[int, Truth], agent: Any, clock: Any, at: datetime
) -> None:
    """Merge tickets with no status history (their audit events move to the target) into
    open ones: the source stops counting, its agent replies join the target's."""
    quiet = [t for t in truths.values() if t.solves == 0 and t.status in (Status.NEW, Status.OPEN)]
    rng.shuffle(quiet)
    for source, target in zip(quiet[0:6:2], quiet[1:6:2], strict=False):
        at += timedelta(minutes=7)
        clock.move_to(at)
        ticket_merge(
            source=Ticket.objects.get(pk=source.ticket_id),
            target=Ticket.objects.get(pk=target.ticket_id),
            actor=agent,
        )
        target.replies = sorted(target.replies + source.replies)
        target.notes += source.notes
        source.merged, source.replies, source.notes = True, [], 0
        source.status, source.closed_at = Status.CLOSED, at


def quantile(values: list[float], fraction: float) -> float | None:
    """percentile_cont's definition, by the standard library's inclusive quantiles."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    if fraction == 0.5:
        return statistics.median(values)
    return statistics.quantiles(values, n=10, method="inclusive")[round(fraction * 10) - 1]
