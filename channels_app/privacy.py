"""What the channels hold about a person, for the export and the erasure.

`channels_customer_erased` (CustomerErased, in the transaction) removes the raw payloads
that came from or name the person (MIME, Twilio forms, chat frames, web form and API
JSON: payload, request metadata and error emptied, `purged_at` set; the row stays as a
record that something arrived) and the outbox rows' addresses and contexts; a reply or
notice still waiting to go out is marked not needed, so nothing reaches the erased
address after the commit. SMS opt-outs live on the phone identity, which the core
deletes. A chat visitor's token keeps no data of its own: its visitor id is the deleted
identity, so the widget finds no history any more.
"""

import json
import logging
from functools import partial
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus, RawInbound
from channels_app.web.adapter import NAME as WEB_ADAPTER
from channels_app.web.adapter import STAGING_PREFIX
from tickets.models import IdentityKind, Message
from tickets.privacy import CustomerScope

logger = logging.getLogger(__name__)

ERASED_NOTE = "Not sent: the customer's personal data was erased."
_SCAN_CHUNK = 500


def _needles(scope: CustomerScope) -> list[bytes]:
    """How the person's addresses appear in raw payloads, lowercased: as written, and
    form-encoded (Twilio and web forms send + as %2B and @ as %40). A phone is searched
    without its +, which matches both."""
    found: set[str] = set()
    for kind, value in scope.identities:
        value = value.lower()
        if kind == IdentityKind.PHONE:
            found.add(value.lstrip("+"))
        else:
            found.update({value, value.replace("@", "%40")})
    return sorted(n.encode() for n in found if len(n) >= 6)


def _matching_raw_ids(scope: CustomerScope) -> set[int]:
    """Unpurged payloads that name one of the person's addresses (a copy, a duplicate, a
    quarantined message that never became one of theirs, someone else's mail copying
    them). Names are not searched: they are not unique enough to erase by."""
    needles = _needles(scope)
    if not needles:
        return set()
    if connection.vendor == "postgresql":
        # One pass in the server; encode(..., 'escape') keeps ASCII bytes as they are,
        # which is what addresses and phone numbers are made of.
        clause = " OR ".join(["strpos(lower(encode(payload, 'escape')), %s) > 0"] * len(needles))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {RawInbound._meta.db_table} "  # noqa: S608 (no user text)
                f"WHERE purged_at IS NULL AND ({clause})",
                [n.decode() for n in needles],
            )
            return {row[0] for row in cursor.fetchall()}
    found: set[int] = set()
    ids = list(RawInbound.objects.filter(purged_at__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(ids), _SCAN_CHUNK):
        for pk, payload in RawInbound.objects.filter(
            pk__in=ids[start : start + _SCAN_CHUNK]
        ).values_list("pk", "payload"):
            text = bytes(payload).lower()
            if any(n in text for n in needles):
                found.add(pk)
    return found


def _raw_ids(scope: CustomerScope) -> set[int]:
    linked = Message.objects.filter(pk__in=scope.message_ids, raw__isnull=False).values_list(
        "raw_id", flat=True
    )
    return {pk for pk in linked if pk is not None}


def _deliveries(scope: CustomerScope) -> Any:
    addresses = scope.values()
    # Agents' own notices about these tickets carry only ids and go to agents.
    return Delivery.objects.filter(
        Q(message_id__in=scope.message_ids)
        | Q(recipient__in=addresses)
        | Q(context__ticket_id__in=scope.ticket_ids)
        | Q(context__customer_id__in=scope.customer_ids)
    ).exclude(purpose__in=[DeliveryPurpose.AGENT_NOTIFICATION, DeliveryPurpose.SLA_BREACH])


def _staged_files(raw_ids: set[int]) -> list[str]:
    """Files a web form payload staged (still there while it is quarantined)."""
    paths: list[str] = []
    rows = RawInbound.objects.filter(pk__in=raw_ids, adapter=WEB_ADAPTER).values_list(
        "payload", flat=True
    )
    for payload in rows:
        try:
            entries = json.loads(bytes(payload)).get("attachments") or []
        except (ValueError, AttributeError):
            continue
        for entry in entries if isinstance(entries, list) else []:
            path = entry.get("path") if isinstance(entry, dict) else None
            if isinstance(path, str) and path.startswith(STAGING_PREFIX) and ".." not in path:
                paths.append(path)
    return paths


def _files_delete(paths: list[str]) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except OSError:
            logger.exception("erase: could not delete the staged file %s", path)


def channels_customer_erased(event: Any) -> None:
    """CustomerErased subscriber (in the transaction)."""
    scope = CustomerScope(
        customer_id=event.customer_id,
        customer_ids=event.customer_ids,
        identities=event.identities,
        ticket_ids=event.ticket_ids,
        message_ids=event.message_ids,
    )
    now = timezone.now()
    raw_ids = _raw_ids(scope) | _matching_raw_ids(scope)
    transaction.on_commit(partial(_files_delete, _staged_files(raw_ids)))
    RawInbound.objects.filter(pk__in=raw_ids).update(payload=b"", meta={}, error="", purged_at=now)
    deliveries = _deliveries(scope).select_for_update()
    ids = list(deliveries.values_list("pk", flat=True))
    # The worker claims with a conditional UPDATE from queued: after this commits it
    # finds nothing to claim, so a waiting reply never goes to the erased address.
    Delivery.objects.filter(
        pk__in=ids, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    ).update(status=DeliveryStatus.SKIPPED, last_error=ERASED_NOTE, updated_at=now)
    Delivery.objects.filter(pk__in=ids).exclude(last_error=ERASED_NOTE).update(last_error="")
    Delivery.objects.filter(pk__in=ids).update(recipient="", context={}, provider_id="")


def export_raw_payloads(scope: CustomerScope) -> list[dict[str, Any]]:
    """Which payloads of theirs arrived (metadata; their content is in the messages)."""
    rows = RawInbound.objects.filter(pk__in=_raw_ids(scope)).order_by("received_at", "pk")
    return [
        {
            "id": raw.pk,
            "channel": raw.channel,
            "source": raw.source,
            "status": raw.status,
            "received_at": raw.received_at.isoformat(),
            "purged_at": raw.purged_at.isoformat() if raw.purged_at else None,
        }
        for raw in rows.only("pk", "channel", "source", "status", "received_at", "purged_at")
    ]


def export_deliveries(scope: CustomerScope) -> list[dict[str, Any]]:
    """What was sent to them: replies, acknowledgements, sign-in links, rating requests."""
    rows = _deliveries(scope).exclude(recipient="").order_by("created_at", "pk")
    return [
        {
            "purpose": d.purpose,
            "channel": d.channel,
            "recipient": d.recipient,
            "status": d.status,
            "message": d.message_id,
            "created_at": d.created_at.isoformat(),
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        }
        for d in rows
    ]
