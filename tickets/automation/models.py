"""Automation rules: triggers (on domain events), time rules (on a schedule), their
firings (the idempotency rows) and the per-agent assignment settings.

Conditions and actions are JSON in the shape of Zendesk's triggers API; what they may
contain is checked in one place, `tickets.automation.rules.rule_validate`, which the
admin, the API and the services all call.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _empty_conditions() -> dict[str, list[object]]:
    return {"all": [], "any": []}


class TriggerEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", "Ticket created"
    TICKET_UPDATED = "ticket.updated", "Ticket updated"
    MESSAGE_INBOUND = "message.inbound", "Customer message added"
    MESSAGE_OUTBOUND = "message.outbound", "Public reply added"
    MESSAGE_INTERNAL = "message.internal", "Internal note added"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACHED = "sla.breached", "SLA breached"
    SATISFACTION_RATED = "satisfaction.rated", "Satisfaction rated"


class Rule(models.Model):
    title = models.CharField(max_length=150, unique=True)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower positions run first.")
    conditions = models.JSONField(default=_empty_conditions, blank=True)
    actions = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    # Public replies need an agent to send as: the ticket's assignee, else this agent.
    reply_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Agent that replies and notes are sent as when the ticket has no assignee.",
    )
    fired_count = models.PositiveIntegerField(default=0, editable=False)
    last_fired_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Trigger(Rule):
    events = models.JSONField(default=list, help_text="Events this trigger listens to.")

    class Meta(Rule.Meta):
        indexes = [models.Index(fields=["active", "position", "id"], name="trigger_active_pos")]


class TimeRule(Rule):
    """A rule the sweep evaluates on a schedule. Its time conditions ("hours since solved
    greater than 96") are among `conditions`; `status` narrows the sweep to the tickets
    that can match, read through the status indexes."""

    class Meta(Rule.Meta):
        verbose_name = "time rule"
        indexes = [models.Index(fields=["active", "position", "id"], name="timerule_active_pos")]


class FiringState(models.TextChoices):
    PENDING = "pending", "Waiting to apply"
    APPLIED = "applied", "Applied"
    STOPPED = "stopped", "Stopped"


class TriggerFiring(models.Model):
    """One trigger matched one event of one ticket. The unique key keeps a trigger from
    firing twice for the same event; the row is written in the event's transaction and
    is the outbox its actions are applied from (state pending -> applied), so a crash
    between the two delays the actions to the next sweep instead of losing them.

    `cascade` is the id shared by every firing that one outside change set off, `depth`
    how many trigger actions deep this one is: a trigger that would fire a second time in
    its cascade, or a cascade deeper than the limit, is stopped and recorded."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=FiringState.choices, default=FiringState.PENDING)
    cascade = models.CharField(max_length=32)
    depth = models.PositiveSmallIntegerField(default=0)
    actions = models.JSONField(default=list)
    summary = models.TextField(blank=True)
    stopped = models.CharField(max_length=300, blank=True, help_text="Why actions were stopped.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "ticket", "event_key"], name="trigger_firing_once"
            )
        ]
        indexes = [
            models.Index(fields=["ticket", "cascade"], name="trigger_firing_cascade"),
            models.Index(
                fields=["created_at"],
                name="trigger_firing_pending",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Trigger {self.trigger_id} on ticket {self.ticket_id} ({self.state})"


class TimeRuleFiring(models.Model):
    """One time rule fired once for one ticket in one qualifying period (the instant the
    period began, e.g. when the ticket was solved): a reopen and a second solve start a
    new period; a second sweep, or a second beat, finds the row and fires nothing."""

    rule = models.ForeignKey(TimeRule, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=64)
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket", "period"], name="time_rule_once")
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="time_rule_firing_ticket")]

    def __str__(self) -> str:
        return f"Time rule {self.rule_id} on ticket {self.ticket_id} ({self.period})"


class AgentAvailability(models.Model):
    """An agent's explicit available / away toggle and capacity for automatic assignment.
    Agents without a row are available with the default capacity."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability"
    )
    available = models.BooleanField(default=True)
    max_open_tickets = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit."
    )
    max_concurrent_chats = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit."
    )
    # Round-robin order: the agent with the lowest number goes next. A sequence rather
    # than a time: two assignments in the same microsecond must still take turns.
    assigned_seq = models.PositiveBigIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "agent availability"

    def __str__(self) -> str:
        return f"Availability of user {self.user_id}"


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least loaded"


class QueuedAssignment(models.Model):
    """A ticket that a rule wanted assigned when nobody in its team was available: it is
    assigned, in arrival order, as soon as an agent of the team becomes available."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="queued_assignment"
    )
    team = models.ForeignKey("tickets.Team", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=16, choices=AssignmentMethod.choices)
    rule_title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["team", "created_at", "id"], name="queued_assignment_team")]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=["round_robin", "least_loaded"]),
                name="queued_assignment_method",
            )
        ]

    def __str__(self) -> str:
        return f"Ticket {self.ticket_id} waiting in team {self.team_id}"
