"""The ticket, its audit trail, its rating and the agents' read marks."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tickets.models.choices import ACTIVE_STATUSES, Channel, Priority, Status, priority_rank
from tickets.models.customer import ContactIdentity, Customer
from tickets.models.team import Tag, Team

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
