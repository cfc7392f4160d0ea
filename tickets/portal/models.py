"""What the portal keeps: each sign-in a magic link opened."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PortalSignIn(models.Model):
    """One use of a magic link and the portal session it opened.

    The link's nonce is unique here, so a link signs in once; the session lasts while
    `ended_at` is empty: the customer signing out, or an agent signing them out
    everywhere, ends it on the server, not only in one browser.
    """

    nonce = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(
        "tickets.Customer", on_delete=models.CASCADE, related_name="portal_sign_ins"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["customer"], name="portal_signin_open", condition=Q(ended_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"sign-in {self.pk} of customer {self.customer_id}"
