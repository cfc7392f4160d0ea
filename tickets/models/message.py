"""What was written: messages and their attachments."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.files import file_is_dangerous
from tickets.models.choices import Channel, Direction
from tickets.models.customer import ContactIdentity
from tickets.models.ticket import Ticket


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
