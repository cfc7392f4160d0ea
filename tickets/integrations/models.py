"""API tokens and outgoing webhooks: how another system (a CRM, a shop, a script) reaches
the desk, and how the desk tells it what happened."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ApiScope(models.TextChoices):
    TICKETS_READ = "tickets:read", "Read tickets"
    TICKETS_WRITE = "tickets:write", "Create and change tickets"
    CUSTOMERS_READ = "customers:read", "Read customers"
    CUSTOMERS_WRITE = "customers:write", "Create and change customers"
    KB_READ = "kb:read", "Read the knowledge base"
    KB_WRITE = "kb:write", "Write the knowledge base"
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhooks"
    REPORTS_READ = "reports:read", "Read reports"
    AUTOMATIONS_MANAGE = "automations:manage", "Manage triggers and time rules"


class ApiToken(models.Model):
    """A bearer token `hd_live_<key_id>_<secret>`: only the secret's SHA-256 is kept."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The agent the token acts as: its permissions and visibility.",
    )
    scopes = models.JSONField(default=list)
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def prefix(self) -> str:
        """The token's public part: greppable in logs and leaks, useless without the secret."""
        return f"hd_live_{self.key_id}"


class WebhookEvent(models.TextChoices):
    """What a webhook can subscribe to: one per domain event it hears."""

    TICKET_CREATED = "ticket.created", "Ticket created"
    TICKET_UPDATED = "ticket.updated", "Ticket updated (fields before and after)"
    TICKET_MERGED = "ticket.merged", "Ticket merged"
    MESSAGE_CREATED = "message.created", "Message created (inbound, outbound, internal note)"
    CUSTOMER_MERGED = "customer.merged", "Customer merged"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACHED = "sla.breached", "SLA breached"
    SATISFACTION_RATED = "satisfaction.rated", "Satisfaction rated"


# Sent only by "send test event" (admin, API); no subscription needed.
TEST_EVENT = "webhook.test"


class Webhook(models.Model):
    """An outside URL told about events: signed (Standard Webhooks), retried, and disabled
    after failing for long enough."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types this webhook receives.")
    # Optional filters on the event's ticket (none: every ticket). Ids, not a relation:
    # the subscriber matches them from a per-process copy, and a deleted team simply
    # matches nothing.
    channels = models.JSONField(
        default=list, blank=True, help_text="Only tickets on these channels (none: all)."
    )
    team_ids = models.JSONField(
        default=list, blank=True, help_text="Only tickets of these teams (none: all)."
    )
    is_active = models.BooleanField(default=True)
    # `whsec_<base64>`: shown once, when made or rotated. Kept as is, not hashed: signing
    # needs it.
    secret = models.CharField(max_length=100, editable=False)
    # The secret before the last rotation, still signed with until `previous_secret_until`,
    # so a receiver can switch without losing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Failed attempts in a row (any delivery) and when the streak began; a success resets.
    failure_count = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the desk disabled it (failures, or the receiver answered 410 Gone).
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one webhook: the outbox row, written in the event's transaction and
    claimed once per attempt by a worker."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # The event's id, the payload's `id` and the `webhook-id` header: the same on every
    # attempt, so the receiver can drop a second copy.
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_response = models.TextField(blank=True, help_text="The start of the last answer.")
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        constraints = [
            # Event first: the after-commit kick looks its rows up by event.
            models.UniqueConstraint(fields=["event_id", "webhook"], name="webhook_delivery_once"),
        ]
        indexes = [
            # The relay reads only what is still waiting.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_waiting",
                condition=Q(status__in=["pending", "sending"]),
            ),
            # A webhook's delivery log, newest first, by keyset.
            models.Index(fields=["webhook", "-id"], name="webhook_delivery_log"),
            # The daily purge reads finished deliveries by age.
            models.Index(
                fields=["created_at"],
                name="webhook_delivery_done",
                condition=Q(status__in=["delivered", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to {self.webhook_id} ({self.status})"


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with `Idempotency-Key`, replayed for 24 h.

    `principal` is whose key it is (`token:<id>` or `user:<id>`): two integrations may pick
    the same key without seeing each other's answers. `status_code` stays null while the
    first request runs; a concurrent twin sees that and gets a 409."""

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="method, path and parsed body")
    status_code = models.PositiveSmallIntegerField(null=True)
    # The rendered JSON as text, so an erasure can find the answers that name the person.
    response_body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "key"], name="idempotency_principal_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
