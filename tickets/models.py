"""The one customer interaction history: who writes, what they wrote, what happened.

Data and invariants only: every write goes through tickets.services.
"""

import secrets
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tickets.files import file_is_dangerous


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    CHAT = "chat", "Chat"
    WEB = "web", "Web form"
    API = "api", "API"
    PHONE = "phone", "Phone"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# A customer writing to a ticket in these states reopens it (to open).
REOPENABLE_STATUSES = frozenset({Status.PENDING, Status.SOLVED})
ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def priority_rank() -> models.Case:
    """A ticket's priority as its rank (PRIORITY_RANK): the priority sort's key. The index
    ticket_working_priority is built on this very expression, which is how PostgreSQL
    matches the sort to it: change both together."""
    return models.Case(
        *(models.When(priority=p, then=models.Value(rank)) for p, rank in PRIORITY_RANK.items()),
        default=models.Value(0),
        output_field=models.IntegerField(),
    )


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    CHAT = "chat", "Chat visitor"
    EXTERNAL = "external", "External id"


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    domain = models.CharField(
        max_length=253, blank=True, help_text="Email domain; new customers from it join."
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    notes = models.TextField(blank=True)
    # Set when this record was merged into another: the pointer that keeps old links alive.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # Set by tickets.privacy.customer_erase: the record is an anonymous skeleton that keeps
    # its tickets countable; nothing may sign in as it or write to it any more.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name or f"Customer #{self.pk}"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class ContactIdentity(models.Model):
    """How a customer reaches us. `value` is normalized: lowercased email, E.164 phone."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    display_name = models.CharField(max_length=200, blank=True)
    verified = models.BooleanField(default=False)
    # SMS STOP/START and email hard bounces: nothing automatic is sent while set.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "contact identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique")
        ]
        indexes = [models.Index(fields=["customer", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(blank=True, help_text="Where team notifications go.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Columns the queue filters or sorts on besides the ones its indexes are keyed by.
QUEUE_INCLUDE = ["priority", "channel", "created_at", "sla_next_due_at"]
# What the queue filters open tickets by, for the indexes of the other sort orders.
WORKING_INCLUDE = ["priority", "channel", "assignee", "team"]


def _reply_token() -> str:
    return secrets.token_hex(8)


class Ticket(models.Model):
    # Assigned in ticket_create from the primary key plus HELPDESK_TICKET_NUMBER_START:
    # unique on every backend without a sequence of our own.
    number = models.PositiveBigIntegerField(unique=True, null=True, editable=False)
    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(
        max_length=16, choices=Channel.choices, help_text="Channel the ticket came in on."
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    followers = models.ManyToManyField(
        ContactIdentity, blank=True, related_name="followed_tickets", help_text="CC'd contacts."
    )
    # Secret part of the ticket's reply address (support+<token>@...) and portal links.
    reply_token = models.CharField(max_length=32, unique=True, default=_reply_token, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # A customer writing to a closed ticket opens a new one that points back here.
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # SLA due times, computed in business hours by the SLA engine; sla_next_due_at is the
    # earliest pending one, which the timer tick reads through a partial index.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_next_due_at = models.DateTimeField(null=True, blank=True)
    # --- SLA engine state (tickets.sla.services.sla_recompute keeps these) ---
    sla_policy = models.ForeignKey(
        "SlaPolicy",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    # Set while pending/on hold: the clocks are stopped, their remaining time is kept on
    # the ticket's running SlaRecords.
    sla_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The earliest warning or breach the timer has not fired yet: the only column the
    # tick reads (partial index ticket_sla_check), so its cost follows due tickets.
    sla_next_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the satisfaction request is due: set on solve (plus HELPDESK_CSAT_DELAY),
    # cleared when the ticket leaves solved or the request is claimed for sending. A row,
    # not a Celery countdown, so a restarted worker or broker loses no request.
    csat_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        # The desk's own permissions (docs/access.md): roles are groups that hold them.
        permissions = [
            ("view_all_tickets", "Can see every ticket"),
            ("view_team_tickets", "Can see the tickets of their teams"),
            ("reply_public", "Can send public replies"),
            ("edit_ticket_fields", "Can change status, priority, team, tags"),
            ("assign_others", "Can assign tickets to other agents"),
            ("manage_macros", "Can manage shared macros"),
        ]
        indexes = [
            # Queue pages: filter on status/assignee/team, keyset on (updated_at, id). The
            # included columns are the queue's other filters and sort keys: the query that
            # picks a page's ids (tickets.selectors.ticket_list) reads them from the index
            # alone instead of visiting every matching row's table page (migration 0007).
            models.Index(
                fields=["status", "-updated_at", "-id"],
                name="ticket_status_upd",
                include=[*QUEUE_INCLUDE, "assignee", "team"],
            ),
            models.Index(
                fields=["assignee", "status", "-updated_at", "-id"],
                name="ticket_asg",
                include=[*QUEUE_INCLUDE, "team"],
            ),
            models.Index(
                fields=["team", "status", "-updated_at", "-id"],
                name="ticket_team",
                include=[*QUEUE_INCLUDE, "assignee"],
            ),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            # The tickets being worked on (new, open: "All open", "Unassigned") in each
            # other sort order, so a sorted page reads its first rows instead of sorting
            # every open ticket (migration 0009).
            models.Index(
                priority_rank().desc(),
                F("updated_at").desc(),
                F("id").desc(),
                name="ticket_working_priority",
                include=WORKING_INCLUDE,
                condition=Q(status__in=["new", "open"]),
            ),
            models.Index(
                fields=["-created_at", "-id"],
                name="ticket_working_created",
                include=WORKING_INCLUDE,
                condition=Q(status__in=["new", "open"]),
            ),
            models.Index(
                # Ascending is NULLS LAST in PostgreSQL: the SLA sort's order.
                fields=["sla_next_due_at", "id"],
                name="ticket_working_sla",
                include=WORKING_INCLUDE,
                condition=Q(status__in=["new", "open"]),
            ),
            models.Index(fields=["customer", "-updated_at"], name="ticket_customer"),
            # The workspace header counts live chats waiting for an agent on every page:
            # only active chat tickets are in it (tickets.workspace.chats).
            models.Index(
                fields=["last_inbound_at"],
                name="ticket_chat_working",
                condition=Q(channel="chat", status__in=["new", "open"]),
            ),
            # The agent workspace's "Recently solved" view and its count.
            models.Index(
                fields=["-solved_at"],
                name="ticket_recently_solved",
                condition=Q(status="solved"),
            ),
            models.Index(
                fields=["sla_next_due_at"],
                name="ticket_sla_due_open",
                condition=Q(status__in=["new", "open"], sla_next_due_at__isnull=False),
            ),
            # The SLA tick: `WHERE sla_next_check_at <= now ORDER BY sla_next_check_at`.
            # sla_recompute nulls the column for paused and finished tickets, so the index
            # holds only tickets with a timer still to fire.
            models.Index(
                fields=["sla_next_check_at"],
                name="ticket_sla_check",
                condition=Q(sla_next_check_at__isnull=False),
            ),
            # The retention purge (tickets.retention): closed tickets by when they closed.
            models.Index(
                fields=["closed_at", "id"],
                name="ticket_closed_retention",
                condition=Q(status="closed"),
            ),
            # The satisfaction tick: `WHERE csat_due_at <= now`; only waiting requests.
            models.Index(
                fields=["csat_due_at"],
                name="ticket_csat_due",
                condition=Q(csat_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def reference(self) -> str:
        return f"#{self.number}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    is_internal = models.BooleanField(default=False, help_text="Internal note: agents only.")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_messages",
    )
    author_identity = models.ForeignKey(
        ContactIdentity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_messages",
    )
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    # Sanitized with nh3 before it is stored (tickets.html.sanitize_html).
    body_html = models.TextField(blank=True)
    # The provider's id (email Message-ID, Twilio MessageSid, ...): the dedup key per channel.
    external_id = models.CharField(max_length=500, null=True, blank=True)
    # Email threading: our or the customer's Message-ID, and what it replied to.
    rfc_message_id = models.CharField(max_length=500, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    # Set on an automatic message (auto-reply, bounce, list mail): stored, never answered.
    is_automated = models.BooleanField(default=False)
    raw = models.ForeignKey(
        "channels_app.RawInbound",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                name="message_channel_external_id_unique",
                condition=Q(external_id__isnull=False),
            )
        ]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="message_timeline")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.channel} message on ticket {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return not self.is_internal


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    # Never the sender's name on disk: a generated one, sharded by date, keeping only a
    # short alphanumeric extension.
    suffix = PurePath(filename).suffix.lower()
    if not (suffix[1:].isalnum() and len(suffix) <= 10):
        suffix = ""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    filename = models.CharField(max_length=255, help_text="Original name, made safe.")
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_id = models.CharField(max_length=255, blank=True, help_text="Inline image Content-ID")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_dangerous(self) -> bool:
        """A program or script: offered for download only, with a warning."""
        return file_is_dangerous(content_type=self.content_type, filename=self.filename)


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS = "status", "Status changed"
    PRIORITY = "priority", "Priority changed"
    ASSIGNED = "assigned", "Assignee changed"
    TEAM = "team", "Team changed"
    TAGS = "tags", "Tags changed"
    SUBJECT = "subject", "Subject changed"
    FOLLOWERS = "followers", "Followers changed"
    MERGED = "merged", "Merged"
    CUSTOMER_MERGED = "customer_merged", "Customer merged"
    REOPENED = "reopened", "Reopened"
    FOLLOW_UP = "follow_up", "Follow-up opened"
    SLA = "sla", "SLA"


class TicketEvent(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_events",
    )
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket {self.ticket_id}"


# --- SLA: calendars, policies, per-ticket clocks ---------------------------------------


def _validate_timezone(value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"“{value}” is not an IANA timezone. Use a name like Europe/Berlin or America/New_York."
        ) from exc


class BusinessHours(models.Model):
    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[_validate_timezone],
        help_text="IANA name, e.g. Europe/Berlin. Intervals are local wall-clock times here.",
    )
    always_open = models.BooleanField(
        "24/7", default=False, help_text="Every minute counts; intervals and holidays are ignored."
    )
    holiday_country = models.CharField(
        max_length=2,
        blank=True,
        help_text="ISO country code (DE, US, ...) for “Import public holidays”.",
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, help_text="Optional state/region code, e.g. BY or NY."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "business hours"
        verbose_name_plural = "business hours"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class BusinessInterval(models.Model):
    """One open stretch of a weekday, in local time. End 00:00 means midnight at day end."""

    calendar = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means until midnight.")

    class Meta:
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def minutes(self) -> tuple[int, int]:
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return start, end or 24 * 60

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        start, end = self.minutes
        if end <= start:
            raise ValidationError(
                {
                    "end": f"Ends at {self.end:%H:%M}, before it starts at {self.start:%H:%M}. "
                    "Use an end after the start (00:00 for midnight)."
                }
            )


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    recurring = models.BooleanField(
        "every year", default=False, help_text="Closed on this day and month every year."
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_calendar_date")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class SlaTargetKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SlaPolicy(models.Model):
    """Targets for the tickets it matches; the first active policy by order applies."""

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=100, help_text="Lower orders are tried first.")
    active = models.BooleanField(default=True)
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Empty: the clock runs 24/7.",
    )
    # Conditions: every one that is set must match; a policy with none matches everything.
    priority = models.CharField(max_length=16, choices=Priority.choices, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="sla_policies"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="sla_policies"
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="sla_policies"
    )
    warning_percent = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Warn when this share of a target's time is used.",
    )
    # Escalation on breach.
    notify_assignee = models.BooleanField(default=True, help_text="Email and in-app.")
    notify_team = models.BooleanField(default=False, help_text="Email the team's address.")
    raise_priority = models.BooleanField(default=False, help_text="One step up, to urgent.")
    escalate_to_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Reassign a breached ticket to this team.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=16, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_priority")
        ]

    def __str__(self) -> str:
        return f"{self.policy} / {self.get_priority_display()}"

    def minutes_for(self, kind: str) -> int | None:
        value: int | None = getattr(self, f"{kind}_minutes")
        return value


class SlaRecordState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    MISSED = "missed", "Met late"
    CANCELLED = "cancelled", "Cancelled"


OPEN_SLA_STATES = (SlaRecordState.RUNNING, SlaRecordState.PAUSED)


class SlaRecord(models.Model):
    """One run of one clock on one ticket: from start to met, late or cancelled."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_records")
    policy = models.ForeignKey(
        SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="records"
    )
    kind = models.CharField(max_length=16, choices=SlaTargetKind.choices)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    target_minutes = models.PositiveIntegerField()
    state = models.CharField(
        max_length=16, choices=SlaRecordState.choices, default=SlaRecordState.RUNNING
    )
    started_at = models.DateTimeField()
    # Business seconds used in earlier running stretches (before a pause), and when the
    # current stretch began (null while paused).
    elapsed_seconds = models.FloatField(default=0)
    resumed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warning_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Business minutes past the due time when the clock stopped (0 when met in time).
    late_minutes = models.IntegerField(null=True, blank=True)
    # A breach notification waiting for business hours, and when it went out.
    notify_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["started_at", "id"]
        permissions = [("view_sla_report", "Can view the SLA report")]
        indexes = [
            models.Index(fields=["ticket", "state"], name="sla_record_ticket"),
            models.Index(fields=["started_at"], name="sla_record_started"),
            # "SLA at risk": running clocks that warned or breached, by due time (the ones
            # not yet due are the few sla_at_risk_parts reads; migration 0008).
            models.Index(
                fields=["due_at"],
                name="sla_record_alerted",
                include=["ticket"],
                condition=Q(state="running")
                & (Q(warned_at__isnull=False) | Q(breached_at__isnull=False)),
            ),
            models.Index(
                fields=["notify_at"],
                name="sla_record_notify",
                condition=Q(notify_at__isnull=False, notified_at__isnull=True),
            ),
        ]
        constraints = [
            # One open clock per kind per ticket: the reopen and retarget logic relies on it.
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                name="sla_record_one_open",
                condition=Q(state__in=["running", "paused"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket {self.ticket_id} ({self.state})"

    @property
    def is_breached(self) -> bool:
        return self.state == SlaRecordState.MISSED or self.breached_at is not None


class SatisfactionRating(models.Model):
    """The customer's rating of a solved ticket: one per ticket, changeable for a while
    after it was first given (HELPDESK_CSAT_CHANGE_WINDOW)."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="satisfaction_rating"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="satisfaction_ratings"
    )
    score = models.PositiveSmallIntegerField(help_text="1 (very unhappy) to 5 (very happy).")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="satisfaction_score_1_to_5"
            )
        ]
        indexes = [models.Index(fields=["-created_at"], name="satisfaction_recent")]

    def __str__(self) -> str:
        return f"{self.score}/5 on ticket {self.ticket_id}"

    @property
    def is_good(self) -> bool:
        return self.score >= 4


class TicketRead(models.Model):
    """When an agent last looked at a ticket: a row is unread once it changed after that."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ticket_reads"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="reads")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="ticket_read_user_ticket")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw ticket {self.ticket_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class Macro(models.Model):
    """A canned reply with placeholders ({{ customer.first_name }}) plus field changes.

    Shared macros (no owner) are managed by admins; personal ones belong to one agent.
    """

    name = models.CharField(max_length=120)
    body = models.TextField(
        blank=True,
        help_text="Plain text. Placeholders: {{ customer.name }}, {{ customer.first_name }}, "
        "{{ customer.email }}, {{ ticket.number }}, {{ ticket.subject }}, {{ agent.name }}, "
        "{{ agent.first_name }}.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Empty: shared with every agent.",
    )
    set_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    set_priority = models.CharField(max_length=16, choices=Priority.choices, blank=True)
    set_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    add_tags = models.CharField(max_length=255, blank=True, help_text="Comma-separated tags.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "name"], name="macro_owner_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.add_tags.split(",") if t.strip()]


class AfterSend(models.TextChoices):
    """Where the ticket page goes once a reply or note is sent."""

    STAY = "stay", "Stay on the ticket"
    NEXT = "next", "Next ticket in this view"
    VIEW = "view", "Back to the view"


class TicketScope(models.TextChoices):
    ROLE = "", "The role's default"
    ALL = "all", "All tickets"
    TEAMS = "teams", "My teams' tickets"
    ASSIGNED = "assigned", "Assigned to me"


class AgentPreference(models.Model):
    """An agent's workspace settings; agents without a row get the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_preference"
    )
    after_send = models.CharField(
        max_length=8,
        choices=AfterSend.choices,
        default=AfterSend.NEXT,
        help_text="Where the ticket page goes after a reply is sent.",
    )
    ticket_scope = models.CharField(
        max_length=8,
        choices=TicketScope.choices,
        default=TicketScope.ROLE,
        blank=True,
        help_text="Which tickets this agent sees (docs/access.md); empty: the role's default.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Preferences of user {self.user_id}"
