"""The append-only audit trail: one row per security-relevant action.

Rows are written once and never changed: save() on an existing row, QuerySet.update()
and QuerySet.delete() raise; on PostgreSQL a trigger refuses UPDATE always and DELETE
unless the retention purge (audit_purge) asked for it in its transaction. The actor is
kept as an id and a name, not a foreign key, so deleting a user changes no entry.
"""

from typing import Any

from django.db import models


class AuditImmutable(Exception):
    """An audit entry was to be changed or deleted."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutable("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutable(
            "Audit entries cannot be deleted; only the retention purge removes them."
        )

    def _purge(self) -> int:
        """Raw delete for the retention purge only (helpdesk.audit.services.audit_purge)."""
        return self._raw_delete(self.db)


class AuditEntry(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    data = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_name}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditImmutable("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("Audit entries cannot be deleted.")
