"""Recording to and reading from the audit trail."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from helpdesk.audit.models import AuditEntry
from helpdesk.lib.net import client_ip

log = logging.getLogger(__name__)

Target = models.Model | tuple[str, Any] | None


def _jsonable(value: Any) -> Any:
    import json

    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(
    *,
    action: str,
    actor: Any = None,
    target: Target = None,
    ip: str | None = None,
    request: HttpRequest | None = None,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. `target` is a model instance or a (type, id) pair; `request`
    supplies the client address (and the actor, when none is given)."""
    if request is not None:
        ip = ip or client_ip(request.META)
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            actor = user
    target_type, target_id = "", ""
    if isinstance(target, models.Model):
        target_type, target_id = target._meta.label_lower, str(target.pk)
    elif target is not None:
        target_type, target_id = str(target[0]), str(target[1])
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_name = actor.get_username() if hasattr(actor, "get_username") else str(actor or "")
    return AuditEntry.objects.create(
        action=action,
        actor_id=actor_id,
        actor_name=actor_name[:150],
        target_type=target_type,
        target_id=target_id[:64],
        ip=(ip or "")[:64],
        summary=summary[:500],
        before=_jsonable(before),
        after=_jsonable(after),
        data=_jsonable(data),
    )


def audit_rows(since: datetime | None = None) -> models.QuerySet[AuditEntry]:
    rows = AuditEntry.objects.order_by("created_at", "id")
    return rows.filter(created_at__gte=since) if since else rows


EXPORT_FIELDS = (
    "id", "created_at", "action", "actor_id", "actor_name", "target_type", "target_id",
    "ip", "summary", "before", "after", "data",
)  # fmt: skip


def audit_as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        name: (getattr(entry, name).isoformat() if name == "created_at" else getattr(entry, name))
        for name in EXPORT_FIELDS
    }


def audit_write(entries: Any, out: Any, fmt: str) -> int:
    """Write entries to the text stream `out` as csv or json; the number written."""
    import csv
    import json

    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_FIELDS)
        for entry in entries:
            row = audit_as_dict(entry)
            writer.writerow(
                [
                    json.dumps(row[n], cls=DjangoJSONEncoder)
                    if n in ("before", "after", "data") and row[n] is not None
                    else ("" if row[n] is None else row[n])
                    for n in EXPORT_FIELDS
                ]
            )
            count += 1
    elif fmt == "json":
        out.write("[")
        for entry in entries:
            out.write(("," if count else "") + "\n")
            out.write(json.dumps(audit_as_dict(entry), cls=DjangoJSONEncoder))
            count += 1
        out.write("\n]\n")
    else:
        raise ValueError(f"Unknown format {fmt!r}: use csv or json.")
    return count


def audit_purge(now: datetime | None = None) -> int:
    """Remove entries older than HELPDESK_AUDIT_RETENTION_DAYS (0 keeps all); the count
    removed, itself recorded."""
    days = settings.HELPDESK_AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL helpdesk.audit_purge = 'on'")
        removed = AuditEntry.objects.filter(created_at__lt=cutoff)._purge()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL helpdesk.audit_purge = 'off'")
    if removed:
        log.info("audit purge removed %d entries older than %s", removed, cutoff.isoformat())
        audit_record(
            action="audit.purge",
            summary=f"Removed {removed} entries older than {days} days",
            data={"removed": removed, "cutoff": cutoff.isoformat()},
        )
    return removed
