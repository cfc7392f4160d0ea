from django.db import models

from tickets.models import Channel, Priority, Ticket


class TicketFacts(models.Model):
    """One row per ticket: what the reports count, computed from the ticket's record
    (messages, audit events, rating) by tickets.reports.facts.facts_compute. Never edited
    by hand: the subscribers and `reports_rebuild` write it, and agree."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="report_facts"
    )
    created_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    team_id = models.BigIntegerField(null=True, blank=True)
    assignee_id = models.BigIntegerField(null=True, blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    first_public_reply_at = models.DateTimeField(null=True, blank=True)
    first_response_minutes = models.FloatField(null=True, blank=True)
    first_response_business_minutes = models.FloatField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True, help_text="The last solve.")
    resolution_minutes = models.FloatField(null=True, blank=True)
    resolution_business_minutes = models.FloatField(null=True, blank=True)
    solved_count = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    public_agent_replies = models.PositiveIntegerField(default=0)
    agent_touches = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    satisfaction_score = models.PositiveSmallIntegerField(null=True, blank=True)
    merged_into_id = models.BigIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "ticket facts"
        indexes = [
            # Every report reads tickets created in a range; merged ones never count.
            models.Index(
                fields=["created_at"],
                name="facts_created_live",
                condition=models.Q(merged_into_id__isnull=True),
            ),
            models.Index(fields=["team_id", "created_at"], name="facts_team_created"),
            models.Index(fields=["assignee_id", "created_at"], name="facts_agent_created"),
        ]

    def __str__(self) -> str:
        return f"Facts of ticket {self.ticket_id}"
