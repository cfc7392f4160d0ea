"""Idempotency keys: a POST sent again with the same `Idempotency-Key` gets the first answer
back instead of doing the work twice (an integration retrying after a timeout).

A key is claimed with an insert the unique constraint arbitrates, so of two identical
requests racing, one does the work and the other sees the claim still open (a 409 asking
it to retry, by when the answer is stored). A claim left open by a process that died
frees itself after ABANDONED_AFTER."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tickets.domain_events import CustomerErased
from tickets.integrations.models import IdempotencyKey

logger = logging.getLogger(__name__)

REPLAY_WINDOW = timedelta(hours=24)
# Longer than any request may run (the web server's timeout is well under it).
ABANDONED_AFTER = timedelta(minutes=5)


class ClaimOutcome(Enum):
    NEW = "new"  # do the work, then idempotency_complete (or _release on a failure)
    REPLAY = "replay"  # answer `record` as it was answered the first time
    MISMATCH = "mismatch"  # the key was used for another request
    BUSY = "busy"  # the first request with this key is still running


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record: IdempotencyKey | None


def _insert(principal: str, key: str, request_hash: str) -> IdempotencyKey | None:
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                principal=principal, key=key, request_hash=request_hash
            )
    except IntegrityError:
        return None


def idempotency_claim(*, principal: str, key: str, request_hash: str) -> Claim:
    now = timezone.now()
    mine = IdempotencyKey.objects.filter(principal=principal, key=key)
    # Past the replay window the key is free again, as it is once purged.
    mine.filter(created_at__lt=now - REPLAY_WINDOW).delete()
    for _ in range(2):
        record = _insert(principal, key, request_hash)
        if record is not None:
            return Claim(ClaimOutcome.NEW, record)
        existing = mine.first()
        if existing is None:  # released between our insert and read: try once more
            continue
        if existing.request_hash != request_hash:
            return Claim(ClaimOutcome.MISMATCH, existing)
        if existing.status_code is not None:
            return Claim(ClaimOutcome.REPLAY, existing)
        stale = mine.filter(
            pk=existing.pk, status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER
        )
        if not stale.delete()[0]:
            return Claim(ClaimOutcome.BUSY, existing)
        logger.warning("idempotency key %s of %s was abandoned; claimed again", key, principal)
    return Claim(ClaimOutcome.BUSY, None)


def idempotency_complete(
    *, record: IdempotencyKey, status_code: int, body: str, content_type: str
) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status_code=status_code, response_body=body, content_type=content_type[:100]
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    """The request failed without an answer worth repeating (a 5xx): a retry does the work."""
    IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotency_purge(*, now: datetime) -> int:
    """Delete the keys past the replay window; the number deleted."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - REPLAY_WINDOW).delete()
    return deleted


def idempotency_answers_erase(event: CustomerErased) -> None:
    """CustomerErased subscriber (in the transaction): stored answers that name the person
    (their addresses, their customer record, a ticket or message of theirs) are dropped, so
    no replay shows what was erased. Matched on the compact JSON the API renders; a false
    match only drops an answer, whose retry then does the work anew."""
    patterns = [json.dumps(value, ensure_ascii=False) for _, value in event.identities]
    for customer_id in event.customer_ids:
        patterns += [f'"customer":{{"id":{customer_id},', f'"customer":{customer_id},']
        patterns.append(f'{{"id":{customer_id},"name":')
    if not patterns:
        return
    named = Q()
    for pattern in patterns:
        named |= Q(response_body__contains=pattern)
    IdempotencyKey.objects.filter(named).delete()
