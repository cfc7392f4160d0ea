"""Channel configuration, the raw inbound store and the outbound outbox."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import Channel, Team


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "TLS from the start (IMAPS, port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"
    NONE = "none", "None (loopback and tests only)"


DEFAULT_ACK_SUBJECT = "We received your request [#{number}]"
DEFAULT_ACK_BODY = (
    "Hello {name},\n\n"
    "Thank you for writing to us. Your request “{subject}” is ticket #{number}; an agent "
    "will answer soon. Reply to this email to add anything.\n"
    "{portal_link}"
)


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
    # IMAP polling (optional: a mailbox fed by a pipe or webhook leaves imap_host blank).
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=16, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_processed_folder = models.CharField(
        max_length=255,
        blank=True,
        help_text="Move stored messages here; blank keeps them in place, marked as read.",
    )
    plus_addressing = models.BooleanField(
        default=True,
        help_text="The server delivers address+anything@domain here: replies use it to thread.",
    )
    cc_followers = models.BooleanField(
        default=True, help_text="People copied on an inbound email follow the ticket."
    )
    send_acknowledgement = models.BooleanField(
        default=True, help_text="Answer a new ticket's first email with the reference."
    )
    ack_subject = models.CharField(
        max_length=255,
        default=DEFAULT_ACK_SUBJECT,
        help_text="Placeholders: {number}, {subject}, {name}, {portal_link}.",
    )
    ack_body = models.TextField(
        default=DEFAULT_ACK_BODY,
        help_text="Placeholders: {number}, {subject}, {name}, {portal_link}.",
    )
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
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
    # Which adapter parses the payload (a key of channels_app.registry.ADAPTERS).
    adapter = models.CharField(max_length=32)
    payload = models.BinaryField()
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    meta = models.JSONField(default=dict, blank=True, help_text="Request headers and the like.")
    status = models.CharField(max_length=16, choices=RawStatus.choices, default=RawStatus.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    # When the payload (and the request metadata) was removed, by the retention purge or
    # a customer's erasure; the row stays as a record that something arrived.
    purged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "raw inbound payload"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="raw_status"),
            # The retention purge reads processed payloads not yet purged, oldest first
            # (channels_app.retention): the purged rows leave the index.
            models.Index(
                fields=["received_at", "id"],
                name="raw_retention_due",
                condition=Q(status="processed", purged_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} payload #{self.pk} ({self.status})"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    # The provider accepted it but the carrier could not hand it over (Twilio "undelivered").
    UNDELIVERED = "undelivered", "Undelivered"
    BOUNCED = "bounced", "Bounced"
    # A notification no longer needed when its turn came (reopened, opted out, gone).
    SKIPPED = "skipped", "Not needed"


class DeliveryPurpose(models.TextChoices):
    REPLY = "reply", "Reply"
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    SIGN_IN_LINK = "sign_in_link", "Portal sign-in link"
    SATISFACTION_REQUEST = "satisfaction_request", "Rating request"
    AGENT_NOTIFICATION = "agent_notification", "Agent notification"
    SLA_BREACH = "sla_breach", "SLA breach notice"


# The note a delivery keeps once it was sent again after a worker died mid-send.
RESENT_NOTE = "Resent after a worker restart: the first attempt was cut off mid-send."


class Delivery(models.Model):
    """One outbound send of one message: the outbox row, claimed once by a worker."""

    # A reply's message; empty for a notification, which is written from `context` when
    # its turn comes (a sign-in link is made then, never stored).
    message = models.ForeignKey(
        "tickets.Message",
        on_delete=models.CASCADE,
        related_name="deliveries",
        null=True,
        blank=True,
    )
    purpose = models.CharField(
        max_length=32, choices=DeliveryPurpose.choices, default=DeliveryPurpose.REPLY
    )
    context = models.JSONField(default=dict, blank=True)
    # Idempotency of a notification that might be asked for twice (a rating request per
    # solve, an acknowledgement per ticket): the database refuses the second.
    dedup_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
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
    # When the recipient's side confirmed receipt (a chat widget's socket, a provider's
    # delivery report).
    delivered_at = models.DateTimeField(null=True, blank=True)

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

    @property
    def was_resent(self) -> bool:
        """Sent again after a crash: the recipient may have it twice (same Message-ID)."""
        return self.last_error == RESENT_NOTE


def _public_key() -> str:
    return secrets.token_urlsafe(12)


class SmsNumber(models.Model):
    """A Twilio (or compatible) number customers text; replies on its tickets go out from it."""

    phone = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +14155550123.")
    account_sid = models.CharField(max_length=64, help_text="The provider account's SID (AC…).")
    # Also the webhook signing key: Twilio signs every request with the account's token.
    auth_token = models.CharField(max_length=128)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_numbers"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "SMS number"
        ordering = ["phone"]

    def __str__(self) -> str:
        return self.phone


class ChatChannel(models.Model):
    """One embeddable chat widget: where it may run, how it looks, who answers it."""

    name = models.CharField(max_length=100)
    # Public: it appears in the embed snippet on the customer's site.
    key = models.CharField(max_length=32, unique=True, default=_public_key, editable=False)
    allowed_domains = models.TextField(
        help_text=(
            "One per line: pages on these hosts may open the chat. “example.com” matches "
            "that host, “*.example.com” its subdomains, “example.com:8080” that port only."
        )
    )
    colour = models.CharField(
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #2563eb.")],
    )
    greeting = models.CharField(max_length=300, default="Hi! How can we help?")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_channels"
    )
    require_email = models.BooleanField(
        default=False, help_text="Visitors give their name and email before they can write."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        bad = [d for d in self.domains if "/" in d or " " in d or d.count("*") > (d[:2] == "*.")]
        if bad:
            raise ValidationError(
                {
                    "allowed_domains": "Write host names only, without https:// or a path "
                    f"(for example shop.example.com): {', '.join(bad)}"
                }
            )
        if not self.domains:
            raise ValidationError(
                {"allowed_domains": "Add at least one domain where the chat may run."}
            )

    @property
    def domains(self) -> list[str]:
        return [
            line.strip().lower()
            for line in self.allowed_domains.replace(",", "\n").splitlines()
            if line.strip()
        ]


class AgentSignature(models.Model):
    """The signature under an agent's email replies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_signature"
    )
    text = models.TextField(blank=True, help_text="Plain text, added under every email reply.")

    def __str__(self) -> str:
        return f"Signature of {self.user}"
