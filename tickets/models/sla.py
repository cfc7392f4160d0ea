"""SLA: calendars, policies and the per-ticket clocks."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models.choices import Channel, Priority
from tickets.models.customer import Organization
from tickets.models.team import Tag, Team
from tickets.models.ticket import Ticket


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
