"""Email in: store a message as received, process it, and react to what was ingested.

IMAP and the ingest_email pipe acknowledge a message to its sender only once it is
stored: they call email_receive_and_process(), which stores and processes it in one
transaction. The HTTP hooks (ESP webhooks, the raw-MIME POST) answer before processing:
they call email_receive() (committed) and enqueue raw_inbound_process_task. What happens after
ingest (acknowledgement, bounces, notifications) lives in
channels_app.email.outbound.email_ingested.
"""

import logging
from collections.abc import Sequence
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses

from django.conf import settings
from django.utils import timezone

from channels_app.email import adapter as email_adapter
from channels_app.email.adapter import lane_keys, plus_base
from channels_app.email.mailboxes import mailboxes_all, own_addresses
from channels_app.ingest import (
    IngestResult,
    raw_inbound_receive,
    raw_inbound_store,
)
from channels_app.ingest_lanes import LaneOutcome, lanes_run
from channels_app.models import Mailbox, RawInbound
from helpdesk.lib.config_cache import config_snapshot, config_snapshot_current
from tickets.models import Channel

logger = logging.getLogger(__name__)


def mailbox_addresses() -> list[str]:
    return sorted(own_addresses())


def mailbox_for_payload(*, payload: bytes, recipient: str = "") -> Mailbox | None:
    """The mailbox a message was sent to, read from its envelope or To/Cc/Delivered-To."""
    addresses = [recipient] if recipient else []
    try:
        # Headers only: cheap even for a large message, and never fails on a broken body.
        headers = BytesParser(policy=policy.compat32).parsebytes(payload[:262144], headersonly=True)
        values = [
            str(v)
            for name in ("Delivered-To", "X-Original-To", "To", "Cc")
            for v in headers.get_all(name, [])
        ]
        addresses += [address for _, address in getaddresses(values)]
    except Exception:  # unreadable headers: the message is still stored, with no mailbox
        logger.info("could not read recipient headers", exc_info=True)
    # support+token@example.com belongs to support@example.com.
    bases = {plus_base(a) for a in addresses if "@" in a}
    if not bases:
        return None
    return next((m for m in mailboxes_all() if m.is_active and m.address.lower() in bases), None)


def email_meta(*, mailbox: Mailbox | None, recipient: str = "") -> dict[str, str]:
    """What the email adapter needs to know about us, stored with the payload."""
    meta = {
        "own_addresses": ",".join(mailbox_addresses()),
        "received_at": timezone.now().isoformat(),
        "cc_followers": "1" if mailbox is None or mailbox.cc_followers else "0",
    }
    if recipient:
        meta["recipient"] = recipient
    if mailbox is not None:
        meta["mailbox_id"] = str(mailbox.pk)
        if mailbox.team_id:
            meta["team_id"] = str(mailbox.team_id)
    return meta


def email_receive(
    *, payload: bytes, source: str, mailbox: Mailbox | None = None, recipient: str = ""
) -> RawInbound:
    """Store one RFC 5322 message (committed on its own) before anything parses it."""
    if mailbox is None:
        mailbox = mailbox_for_payload(payload=payload, recipient=recipient)
    return raw_inbound_store(
        channel=Channel.EMAIL,
        adapter=email_adapter.NAME,
        source=source,
        payload=payload,
        content_type="message/rfc822",
        meta=email_meta(mailbox=mailbox, recipient=recipient),
    )


def email_receive_and_process(
    *, payload: bytes, source: str, mailbox: Mailbox | None = None, recipient: str = ""
) -> tuple[RawInbound, IngestResult | None]:
    """Store and process one message in one transaction (see raw_inbound_receive): the
    stored payload and the ingested result (None when quarantined). Raises
    ProcessingDeferred when it is stored but processing must be retried."""
    # One message, one read of the configuration version (mailboxes, SLA policies).
    with config_snapshot():
        if mailbox is None:
            mailbox = mailbox_for_payload(payload=payload, recipient=recipient)
        return raw_inbound_receive(
            channel=Channel.EMAIL,
            adapter=email_adapter.NAME,
            source=source,
            payload=payload,
            content_type="message/rfc822",
            meta=email_meta(mailbox=mailbox, recipient=recipient),
        )


def email_receive_and_process_many(
    *, payloads: Sequence[bytes], source: str, mailbox: Mailbox | None = None
) -> list[LaneOutcome[tuple[RawInbound, IngestResult | None]]]:
    """Store and process a batch (one IMAP fetch), each message in its own transaction as
    email_receive_and_process would, on up to HELPDESK_INGEST_THREADS threads.

    Messages that share a Message-ID, an address or a ticket reference are processed in
    order in one lane (see ingest_lanes), so a reply never overtakes what it answers. An
    outcome holds (raw, result), or the error (ProcessingDeferred: stored, retried later;
    any other: not stored), or neither: skipped because an earlier message of its lane
    failed. The caller acknowledges exactly the messages whose outcome has a value.
    """
    # One read of the configuration version for the whole batch, on every lane's thread.
    with config_snapshot():
        snapshot = config_snapshot_current()
        own = own_addresses()
        keys = [lane_keys(payload, own) for payload in payloads]

        def work(index: int) -> tuple[RawInbound, IngestResult | None]:
            with config_snapshot(snapshot):
                return email_receive_and_process(
                    payload=payloads[index], source=source, mailbox=mailbox
                )

        return lanes_run(keys=keys, work=work, threads=settings.HELPDESK_INGEST_THREADS)
