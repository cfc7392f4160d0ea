"""API tokens: how another system (a CRM, a shop, a script) reaches the API."""

from django.conf import settings
from django.db import models


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
