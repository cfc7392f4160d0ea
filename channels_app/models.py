"""Channel configuration, the raw inbound store and the outbound outbox."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import Channel, Team


class Mailbox(models.Model):
    """An address customers write to; replies on its tickets go out from it."""

    name = models.CharField(max_length=100)
    address = models.EmailField(unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes"
    )
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, help_text="Used for tickets that came in on another channel."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "mailboxes"
        ordering = ["address"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class RawStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    QUARANTINED = "quarantined", "Quarantined"


class RawInbound(models.Model):
    """Every inbound payload, stored as received before anything parses it."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    source = models.CharField(
        max_length=100, help_text="Where it came from: imap:<mailbox>, hook:twilio, api, ..."
    )
    # Which adapter parses the payload (channels_app.adapters.ADAPTERS key).
    adapter = models.CharField(max_length=32)
    payload = models.BinaryField()
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    meta = models.JSONField(default=dict, blank=True, help_text="Request headers and the like.")
    status = models.CharField(max_length=16, choices=RawStatus.choices, default=RawStatus.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "raw inbound payload"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="raw_status"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} payload #{self.pk} ({self.status})"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"


class Delivery(models.Model):
    """One outbound send of one message: the outbox row, claimed once by a worker."""

    message = models.ForeignKey(
        "tickets.Message", on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=320)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    provider_id = models.CharField(max_length=500, blank=True)
    last_error = models.TextField(blank=True)
    # Earliest time a queued delivery may be (re)tried; the relay skips it until then.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The relay reads only what is still waiting.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_waiting",
                condition=Q(status__in=["queued", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.status})"
