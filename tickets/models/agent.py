"""What belongs to an agent's work: macros and workspace preferences."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from tickets.models.choices import Priority, Status
from tickets.models.team import Team


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
