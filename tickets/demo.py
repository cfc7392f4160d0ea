"""The demo help desk `manage.py seed_demo` loads: people, teams and a month of tickets.

Every ticket, message, assignment, tag, note and merge is written through the same services
the product uses (ingest, message_reply, ticket_assign, ...), so the demo obeys the same
invariants as real data. Services stamp "now"; the seeder then moves each step's rows back
to the step's planned time, so the queues look like a month of work.
"""

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from channels_app.demo import smschat_demo_setup
from channels_app.inbound import Identity, InboundMessage
from channels_app.ingest import inbound_message_ingest
from channels_app.models import (
    ChatChannel,
    Delivery,
    DeliveryStatus,
    Mailbox,
    RawInbound,
    SmsNumber,
)
from helpdesk.celery import app as celery_app
from helpdesk.roles import ADMINS_GROUP, AGENTS_GROUP, LEADS_GROUP, LIGHT_AGENTS_GROUP
from knowledge_base.demo import kb_demo_seed
from tickets.demo_content import (
    DEMO_MACROS,
    FIRST_NAMES,
    FOLLOW_UP_TEXTS,
    LAST_NAMES,
    ORGANIZATIONS,
    PERSONAL_DOMAINS,
    TOPICS,
    Topic,
)
from tickets.models import (
    Channel,
    ContactIdentity,
    Customer,
    IdentityKind,
    Macro,
    Message,
    Organization,
    Priority,
    Status,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)
from tickets.services import (
    identity_add,
    identity_resolve,
    message_reply,
    note_add,
    ticket_assign,
    ticket_merge,
    ticket_set_priority,
    ticket_set_status,
    ticket_tags_change,
)
from tickets.sla.demo import sla_demo_setup
from tickets.sla.services import sla_recompute_open_batch

# (username, password, first name, last name, role group, teams); each role of
# docs/access.md once. The lead and the light agent work no demo tickets themselves, so
# the tickets are the same with or without them.
DEMO_USERS = (
    ("admin", "admin", "Morgan", "Lee", ADMINS_GROUP, ("Support", "Billing")),
    ("agent", "agent", "Riley", "Chen", AGENTS_GROUP, ("Support",)),
    ("agent2", "agent2", "Jordan", "Patel", AGENTS_GROUP, ("Support", "Billing")),
    ("lead", "lead", "Avery", "Kim", LEADS_GROUP, ("Support", "Billing")),
    ("light", "light", "Casey", "Nguyen", LIGHT_AGENTS_GROUP, ("Billing",)),
)
DEMO_USERNAMES = tuple(user[0] for user in DEMO_USERS)

# How often each channel starts a ticket; every channel appears at least once regardless.
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 40,
    Channel.WEB: 15,
    Channel.CHAT: 15,
    Channel.SMS: 12,
    Channel.PHONE: 10,
    Channel.API: 8,
}
# Share of tickets per final status, and how many days ago such a ticket typically began.
STATUS_PLAN: dict[str, tuple[int, float, int]] = {
    Status.NEW: (20, 0.1, 2),
    Status.OPEN: (30, 0.5, 6),
    Status.PENDING: (20, 1, 9),
    Status.ON_HOLD: (10, 2, 14),
    Status.SOLVED: (35, 2, 21),
    Status.CLOSED: (35, 9, 30),
}
PRIORITY_WEIGHTS = {Priority.LOW: 20, Priority.NORMAL: 50, Priority.HIGH: 22, Priority.URGENT: 8}


class DemoRefused(Exception):
    """The demo cannot be loaded here; the message says why and what to do instead."""


@dataclass(frozen=True)
class DemoSummary:
    users: int
    teams: int
    organizations: int
    customers: int
    tickets: int
    messages: int


def demo_is_loaded() -> bool:
    User = get_user_model()
    return User.objects.filter(username="admin").exists() or Ticket.objects.exists()


def _require_debug() -> None:
    if not settings.DEBUG:
        raise DemoRefused(
            "The demo creates accounts with published passwords (admin/admin), so it only "
            "runs with DEBUG on. In production create your own admin with "
            "`python manage.py createsuperuser`."
        )


@transaction.atomic
def demo_reset() -> None:
    """Delete every ticket, customer, organization, team, tag, mailbox, raw payload, the
    SLA calendars and policies, the help-centre content and the demo users. Other users
    are kept."""
    from knowledge_base.models import Article, Category, SearchLog, SupportCategory
    from tickets.models import BusinessHours, SlaPolicy

    _require_debug()
    # Tickets first: customers are protected while tickets point at them.
    Ticket.objects.update(merged_into=None, follow_up_of=None)
    Ticket.objects.all().delete()
    ContactIdentity.objects.all().delete()
    Customer.objects.update(merged_into=None)
    Customer.objects.all().delete()
    Organization.objects.all().delete()
    Tag.objects.all().delete()
    Mailbox.objects.all().delete()
    SmsNumber.objects.all().delete()
    ChatChannel.objects.all().delete()
    Team.objects.all().delete()
    RawInbound.objects.all().delete()
    Delivery.objects.filter(message__isnull=True).delete()  # notifications (no ticket FK)
    SlaPolicy.objects.all().delete()
    BusinessHours.objects.all().delete()
    Article.objects.all().delete()  # revisions and deflections go with them
    Category.objects.all().delete()
    SupportCategory.objects.all().delete()
    SearchLog.objects.all().delete()
    get_user_model().objects.filter(username__in=DEMO_USERNAMES).delete()
    Macro.objects.filter(owner=None, name__in=[m[0] for m in DEMO_MACROS]).delete()


def demo_seed(*, seed: int = 42, tickets: int = 150, customers: int = 40) -> DemoSummary:
    """Load the demo into an empty help desk. Precondition: DEBUG is on."""
    _require_debug()
    with _tasks_run_inline(), transaction.atomic():
        seeder = _Seeder(random.Random(seed), tickets=tickets, customers=customers)
        seeder.run()
        # Office hours and a default policy, then every open ticket's clocks from its
        # (backdated) history, so the demo shows live countdowns and some breaches.
        sla_demo_setup()
        after: int | None = 0
        while after is not None:
            after = sla_recompute_open_batch(after_id=after)
        # The help centre and the web form's request types (routed to the demo teams).
        kb_demo_seed(author=seeder.admin)
        # The acknowledgements and agent notifications a month of history asked for were
        # "sent" back then: none goes out now, and none clutters the outbox.
        Delivery.objects.filter(message__isnull=True).delete()
    return DemoSummary(
        users=len(DEMO_USERS),
        teams=Team.objects.count(),
        organizations=Organization.objects.count(),
        customers=Customer.objects.count(),
        tickets=Ticket.objects.count(),
        messages=Message.objects.count(),
    )


@contextmanager
def _tasks_run_inline() -> Iterator[None]:
    # Replies enqueue their delivery on commit. The seeder marks those deliveries sent
    # before it commits, so run the enqueued tasks in this process, where they find nothing
    # to claim, instead of filling the broker with no-op messages for a worker. Their
    # "succeeded" lines would bury the summary, so the task log is quiet meanwhile.
    previous = celery_app.conf.task_always_eager
    trace_log = logging.getLogger("celery.app.trace")
    previous_level = trace_log.level
    celery_app.conf.task_always_eager = True
    trace_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
        trace_log.setLevel(previous_level)


def _weighted(rng: random.Random, weights: dict[Any, int], count: int) -> list[Any]:
    """`count` values: each key once, the rest drawn by weight, shuffled."""
    values = list(weights)
    values += rng.choices(values, weights=list(weights.values()), k=max(0, count - len(values)))
    rng.shuffle(values)
    return values[:count]


class _Seeder:
    def __init__(self, rng: random.Random, *, tickets: int, customers: int) -> None:
        self.rng = rng
        self.ticket_count = tickets
        self.customer_count = customers
        self.started = timezone.now()
        # Every planned time stays before the first row a service stamps with "now".
        self.latest = self.started - timedelta(minutes=2)
        self.sequence = 0
        self.phones: dict[int, ContactIdentity] = {}
        self.emails: dict[int, ContactIdentity] = {}
        self.chats: dict[int, ContactIdentity] = {}
        self.last_rfc_id: dict[int, str] = {}
        self.openers: dict[int, str] = {}  # ticket pk -> the customer's first words, short

    # --- the plan ---------------------------------------------------------------------

    def run(self) -> None:
        self._people()
        self._macros()
        statuses = _weighted(
            self.rng, {s: plan[0] for s, plan in STATUS_PLAN.items()}, self.ticket_count
        )
        channels = _weighted(self.rng, CHANNEL_WEIGHTS, self.ticket_count)
        priorities = _weighted(self.rng, PRIORITY_WEIGHTS, self.ticket_count)
        made: list[tuple[Ticket, str]] = []
        for status, channel, priority in zip(statuses, channels, priorities, strict=True):
            customer = self._customer_for(channel)
            topic = self.rng.choice(TOPICS)
            if priority == Priority.NORMAL:
                priority = topic.priority  # the topic's usual urgency, unless drawn otherwise
            made.append((self._ticket(status, channel, priority, customer, topic), status))
        self._merges([t for t, s in made if s in (Status.OPEN, Status.PENDING)][:2])
        closed_by_email = [t for t, s in made if s == Status.CLOSED and t.channel == Channel.EMAIL]
        self._follow_ups(closed_by_email[:2])
        # Nothing is emailed or texted when the demo loads: its replies count as sent.
        Delivery.objects.filter(status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SENT,
            attempts=1,
            provider_id="demo",
            sent_at=F("created_at"),
            updated_at=F("created_at"),
        )
        # ...and its solved tickets were asked for a rating long ago, not a day from now.
        Ticket.objects.filter(csat_due_at__isnull=False).update(csat_due_at=None)

    def _macros(self) -> None:
        """Shared macros for everyday answers, several of which advance the ticket."""
        for name, body, status, priority, team, tags in DEMO_MACROS:
            Macro.objects.create(
                name=name,
                body=body,
                set_status=status,
                set_priority=priority,
                set_team=self.teams[team] if team else None,
                add_tags=tags,
            )

    def _people(self) -> None:
        User = get_user_model()
        self.users: dict[str, Any] = {}
        support = Team.objects.create(name="Support", email="support@helpdesk.localhost")
        billing = Team.objects.create(name="Billing", email="billing@helpdesk.localhost")
        self.teams = {"Support": support, "Billing": billing}
        for username, password, first, last, role, teams in DEMO_USERS:
            is_admin = role == ADMINS_GROUP
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@helpdesk.localhost",
                is_staff=is_admin,
                is_superuser=is_admin,
            )
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            for team in teams:
                self.teams[team].members.add(user)
            self.users[username] = user
        self.admin = self.users["admin"]
        self.team_agents = {
            "Support": [self.users["agent"], self.users["agent2"], self.admin],
            # Jordan works most of the billing queue.
            "Billing": [self.users["agent2"], self.users["agent2"], self.admin],
        }
        Mailbox.objects.create(
            name="Support", address="support@helpdesk.localhost", team=support, is_default=True
        )
        Mailbox.objects.create(name="Billing", address="billing@helpdesk.localhost", team=billing)
        smschat_demo_setup(team=support)
        organizations = [
            Organization.objects.create(name=name, domain=domain) for name, domain in ORGANIZATIONS
        ]
        names = self.rng.sample(
            [(f, last) for f in FIRST_NAMES for last in LAST_NAMES], self.customer_count
        )
        self.customers: list[Customer] = []
        for index, (first, last) in enumerate(names):
            organization = organizations[index % 3] if index % 2 == 0 else None
            domain = organization.domain if organization else self.rng.choice(PERSONAL_DOMAINS)
            local = f"{first}.{last}".lower().replace("'", "")
            email = identity_resolve(
                kind=IdentityKind.EMAIL, value=f"{local}@{domain}", display_name=f"{first} {last}"
            )
            customer = email.customer
            if organization is not None:
                Customer.objects.filter(pk=customer.pk).update(organization=organization)
            self.emails[customer.pk] = email
            if index % 4 != 3:  # three in four customers gave a mobile number
                self.phones[customer.pk] = identity_add(
                    customer=customer, kind=IdentityKind.PHONE, value=self._phone(index),
                    actor=self.admin, verified=True,
                )  # fmt: skip
            self.customers.append(customer)
            self._stamp(self.latest - timedelta(days=45 - index % 10), people=True)

    def _phone(self, index: int) -> str:
        # Numbers reserved for fiction: US 555-0100..0199, UK 020 7946 0000..0999.
        if index % 3 == 2:
            return f"+44 20 7946 0{index:03d}"
        return f"+1 415 555 01{index % 100:02d}"

    def _customer_for(self, channel: str) -> Customer:
        pool = self.customers
        if channel in (Channel.SMS, Channel.PHONE):
            pool = [c for c in self.customers if c.pk in self.phones]
        return self.rng.choice(pool)

    # --- one ticket's life ------------------------------------------------------------

    def _ticket(
        self, status: str, channel: str, priority: str, customer: Customer, topic: Topic
    ) -> Ticket:
        rng = self.rng
        _, youngest, oldest = STATUS_PLAN[status]
        when = self.latest - timedelta(days=rng.uniform(youngest, oldest))
        agent = rng.choice(self.team_agents[topic.team])
        words = {
            "first": customer.first_name,
            "agent": agent.first_name,
            "order": f"#A{rng.randint(10000, 99999)}",
        }
        short = channel in (Channel.SMS, Channel.CHAT)
        opener = (topic.short if short else topic.opener).format(**words)
        if channel == Channel.PHONE:
            opener = f"Call from {customer.name} ({rng.randint(2, 14)} min): " + topic.short.format(
                **words
            )
        ticket = self._inbound(
            customer, channel, opener, when,
            subject="" if short else topic.subject.format(**words),
            team=self.teams[topic.team], priority=priority,
        )  # fmt: skip
        self.openers[ticket.pk] = topic.short.format(**words)
        if status == Status.NEW:
            if rng.random() < 0.3:
                when = self._later(when, 30, 600)
                self._inbound(customer, channel, "Any update on this?", when, ticket=ticket)
            if rng.random() < 0.2:
                when = self._later(when, 5, 60)
                ticket_assign(ticket=self._fresh(ticket), agent=agent, actor=self.admin)
                self._stamp(when)
            return ticket

        when = self._later(when, 5, 120)
        if rng.random() < 0.9:
            ticket_assign(
                ticket=self._fresh(ticket), agent=agent, actor=rng.choice([agent, self.admin])
            )
            self._stamp(when)
        if rng.random() < 0.6:
            ticket_tags_change(ticket=self._fresh(ticket), actor=agent, add=topic.tags)
            self._stamp(when)
        if rng.random() < 0.1 and priority != Priority.URGENT:
            when = self._later(when, 10, 240)
            ticket_set_priority(ticket=self._fresh(ticket), priority=Priority.URGENT, actor=agent)
            self._stamp(when)
        when = self._later(when, 10, 360)
        self._reply(ticket, agent, topic.reply.format(**words), when)
        if rng.random() < 0.35 or status == Status.ON_HOLD:
            when = self._later(when, 5, 120)
            note_add(ticket=ticket, author=agent, body_text=topic.note.format(**words))
            self._stamp(when)

        if status == Status.PENDING:
            ticket_set_status(ticket=self._fresh(ticket), status=Status.PENDING, actor=agent)
            self._stamp(when)
            return ticket
        if status == Status.ON_HOLD:
            when = self._later(when, 5, 60)
            ticket_set_status(ticket=self._fresh(ticket), status=Status.ON_HOLD, actor=agent)
            self._stamp(when)
            return ticket
        when = self._later(when, 60, 1440)
        self._inbound(customer, channel, topic.follow_up.format(**words), when, ticket=ticket)
        if status == Status.OPEN:
            return ticket
        when = self._later(when, 20, 600)
        self._reply(ticket, agent, topic.resolution.format(**words), when, status=Status.SOLVED)
        if status == Status.CLOSED:
            # Closed by the system a few days after solving, as an auto-close rule would.
            when = self._later(when, 3 * 1440, 5 * 1440)
            ticket_set_status(ticket=self._fresh(ticket), status=Status.CLOSED, actor=None)
            self._stamp(when)
        return ticket

    def _merges(self, targets: list[Ticket]) -> None:
        # The same customer asks again on another channel; an agent merges the duplicate.
        for target in targets:
            target.refresh_from_db()
            channel = Channel.CHAT if target.channel != Channel.CHAT else Channel.EMAIL
            when = self._later(target.updated_at, 30, 180)
            text = f"Following up on my earlier message: {self.openers[target.pk]}"
            duplicate = self._inbound(target.customer, channel, text, when, subject="")
            when = self._later(when, 5, 60)
            agent = target.assignee or self.users["agent"]
            ticket_merge(source=duplicate, target=target, actor=agent)
            self._stamp(when)

    def _follow_ups(self, closed: list[Ticket]) -> None:
        # A customer answers a closed ticket's last email: a linked follow-up ticket opens.
        for old, text in zip(closed, FOLLOW_UP_TEXTS, strict=False):
            old.refresh_from_db()
            if old.closed_at is None:
                continue
            when = min(self._later(old.closed_at, 600, 2880), self.latest)
            self._inbound(old.customer, Channel.EMAIL, text, when, subject=f"Re: {old.subject}",
                          ticket=old)  # fmt: skip

    # --- steps ------------------------------------------------------------------------

    def _fresh(self, ticket: Ticket) -> Ticket:
        # Ingest and replies update the ticket through their own instances; the services
        # below compare against the instance they get, so give them the current row.
        ticket.refresh_from_db()
        return ticket

    def _later(self, when: datetime, low_minutes: int, high_minutes: int) -> datetime:
        return min(
            when + timedelta(minutes=self.rng.uniform(low_minutes, high_minutes)), self.latest
        )

    def _sender(self, customer: Customer, channel: str) -> ContactIdentity:
        if channel in (Channel.SMS, Channel.PHONE):
            return self.phones[customer.pk]
        if channel == Channel.CHAT:
            if customer.pk not in self.chats:
                self.chats[customer.pk] = identity_add(
                    customer=customer, kind=IdentityKind.CHAT,
                    value=f"visitor-{self.rng.getrandbits(48):012x}", actor=self.admin,
                )  # fmt: skip
            return self.chats[customer.pk]
        return self.emails[customer.pk]

    def _external_id(self, channel: str) -> str:
        self.sequence += 1
        token = f"{self.rng.getrandbits(64):016x}{self.sequence:04d}"
        return {
            Channel.EMAIL: f"<{token}@mail.example.com>",
            Channel.SMS: f"SM{token}",
            Channel.PHONE: f"CA{token}",
            Channel.CHAT: f"chat-{token}",
            Channel.WEB: f"web-{token}",
            Channel.API: f"api-{token}",
        }[Channel(channel)]

    def _inbound(
        self,
        customer: Customer,
        channel: str,
        text: str,
        when: datetime,
        *,
        subject: str = "",
        ticket: Ticket | None = None,
        team: Team | None = None,
        priority: str | None = None,
    ) -> Ticket:
        sender = self._sender(customer, channel)
        external_id = self._external_id(channel)
        is_email = channel == Channel.EMAIL
        hints: tuple[str, ...] = ()
        reference = None
        if ticket is not None:
            last = self.last_rfc_id.get(ticket.pk)
            if is_email and last:
                hints = (last,)  # a real mail client's In-Reply-To
            else:
                reference = str(ticket.number)  # as a customer quotes "#1234"
        result = inbound_message_ingest(
            message=InboundMessage(
                channel=channel,
                external_id=external_id,
                sender=Identity(sender.kind, sender.value, customer.name),
                subject=subject or (f"Re: {ticket.subject}" if ticket and is_email else ""),
                text=text,
                html=None,
                received_at=when,
                thread_hints=hints,
                ticket_reference=reference,
                rfc_message_id=external_id if is_email else "",
                team_id=team.pk if team else None,
                priority=priority,
            )
        )
        self._stamp(when, people=channel == Channel.CHAT)  # a chat visitor id may be new
        return result.ticket

    def _reply(
        self, ticket: Ticket, agent: Any, text: str, when: datetime, *, status: str | None = None
    ) -> None:
        message = message_reply(ticket=ticket, author=agent, body_text=text, set_status=status)
        if message.rfc_message_id:
            self.last_rfc_id[ticket.pk] = message.rfc_message_id
        self._stamp(when)

    def _stamp(self, when: datetime, *, people: bool = False) -> None:
        """Move every row a service stamped with "now" (after `started`) back to `when`."""
        started = connection.ops.adapt_datetimefield_value(self.started)
        moved = connection.ops.adapt_datetimefield_value(when)
        with connection.cursor() as cursor:
            for sql, columns in _stamp_sql("all" if people else "history"):
                cursor.execute(sql, [started, moved] * columns + [started] * columns)


# Columns services stamp with "now", per table. The history tables move after every step;
# customers and identities only when the step may have created one.
_STAMPED: dict[str, list[tuple[Any, tuple[str, ...]]]] = {
    "history": [
        (Ticket, ("created_at", "updated_at", "first_response_at", "solved_at", "closed_at")),
        (Message, ("created_at",)),
        (TicketEvent, ("created_at",)),
        (Delivery, ("created_at", "updated_at", "next_attempt_at")),
    ],
    "people": [(Customer, ("created_at", "updated_at")), (ContactIdentity, ("created_at",))],
}


def _stamp_statements(tables: list[tuple[Any, tuple[str, ...]]]) -> list[tuple[str, int]]:
    """One UPDATE per table that moves each recently stamped column and keeps the others.

    Plain SQL because building these as ORM expressions ~800 times cost more than the rest
    of the seeding together. Only table and column names from the models go into the text.
    """
    quote = connection.ops.quote_name
    statements = []
    for model, fields in tables:
        columns = [quote(model._meta.get_field(field).column) for field in fields]
        assignments = ", ".join(
            f"{column} = CASE WHEN {column} >= %s THEN %s ELSE {column} END" for column in columns
        )
        recent = " OR ".join(f"{column} >= %s" for column in columns)
        table = quote(model._meta.db_table)
        statements.append((f"UPDATE {table} SET {assignments} WHERE {recent}", len(columns)))  # noqa: S608
    return statements


@cache
def _stamp_sql(kind: str) -> list[tuple[str, int]]:
    tables = _STAMPED["history"] + (_STAMPED["people"] if kind == "all" else [])
    return _stamp_statements(tables)
