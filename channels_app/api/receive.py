"""A message another system posts to the API: stored first, then ingested."""

import logging
from dataclasses import dataclass

from channels_app.api import adapter
from channels_app.ingest import IngestResult, raw_inbound_process, raw_inbound_store
from channels_app.models import RawInbound
from tickets.models import Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiReceipt:
    payload_id: int  # the RawInbound row: kept whatever happens next
    result: IngestResult | None  # None: deferred, or quarantined with `error`
    deferred: bool = False
    error: str = ""


def api_message_receive(*, payload: bytes, content_type: str, source: str) -> ApiReceipt:
    """Store the payload (committed on its own), then parse and ingest it.

    Precondition: outside a transaction (raw_inbound_store). Processing that fails for
    now (the database went away) is deferred: the stale-payload retry ingests the stored
    payload later, so the sender may be told it is received.
    """
    raw = raw_inbound_store(
        channel=Channel.API,
        adapter=adapter.NAME,
        source=source,
        payload=payload,
        content_type=content_type or "application/json",
    )
    try:
        result = raw_inbound_process(raw_id=raw.pk)
    except Exception as exc:  # stored: the retry of stale payloads processes it later
        logger.warning("payload %s stored, processing deferred: %s", raw.pk, exc)
        return ApiReceipt(payload_id=raw.pk, result=None, deferred=True)
    if result is None:
        error = RawInbound.objects.filter(pk=raw.pk).values_list("error", flat=True).first()
        return ApiReceipt(payload_id=raw.pk, result=None, error=error or "")
    return ApiReceipt(payload_id=raw.pk, result=result)
