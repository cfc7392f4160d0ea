"""IMAP polling: fetch unread mail, store it, process it, and only then mark it read.

Order matters: a message is flagged \\Seen (or moved to the processed folder) only after
it is stored and processed in committed transactions. A crash anywhere before that
leaves it unread on the server; the next poll reads it again and dedup on Message-ID
makes the second pass harmless. Nothing fetched is ever lost.
"""

import imaplib
import logging
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.consts import MailMessageFlags
from imap_tools.errors import ImapToolsError, MailboxLoginError

from channels_app.email.inbound import email_receive_and_process_many
from channels_app.models import ImapSecurity, Mailbox

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# One fetch: this many messages, or fewer when they are large, are fetched with one
# command and ingested as one batch (channels_app.ingest_lanes), then marked done at once.
FETCH_BATCH = 50
FETCH_BATCH_BYTES = 50 * 1024 * 1024
# A poll drains the mailbox for up to this long (a backlog goes at full speed); whatever
# is left waits for the next poll, a minute later, so one flooded mailbox cannot hold the
# worker for long.
POLL_SECONDS = 50
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class PollResult:
    fetched: int
    error: str = ""


def _connect(mailbox: Mailbox) -> BaseMailBox:
    context = ssl.create_default_context()
    client: BaseMailBox
    if mailbox.imap_security == ImapSecurity.SSL:
        client = MailBox(
            mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS, ssl_context=context
        )
    elif mailbox.imap_security == ImapSecurity.STARTTLS:
        client = MailBoxStartTls(
            mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS, ssl_context=context
        )
    else:
        client = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    return client.login(
        mailbox.imap_username, mailbox.imap_password, initial_folder=mailbox.imap_folder
    )


def _sizes(client: BaseMailBox, uids: list[str]) -> dict[str, int]:
    status, data = client.client.uid("FETCH", ",".join(uids), "(RFC822.SIZE)")
    if status != "OK":
        raise ImapToolsError(f"FETCH sizes failed: {data!r}")
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _batches(uids: list[str], sizes: dict[str, int]) -> Iterator[list[str]]:
    batch: list[str] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= FETCH_BATCH or held + size > FETCH_BATCH_BYTES):
            yield batch
            batch, held = [], 0
        batch.append(uid)
        held += size
    if batch:
        yield batch


def _fetch_many(client: BaseMailBox, uids: list[str]) -> dict[str, bytes]:
    """The raw messages of `uids`, in one command (a message expunged meanwhile by another
    client is simply missing)."""
    # BODY.PEEK leaves \\Seen alone: the flag is ours to set, after the commit.
    status, data = client.client.uid("FETCH", ",".join(uids), "(BODY.PEEK[])")
    if status != "OK":
        raise ImapToolsError(f"FETCH failed: {data!r}")
    found: dict[str, bytes] = {}
    pending: bytes | None = None  # a body whose UID the server sends after it
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            uid = _UID.search(item[0])
            if uid is not None:
                found[uid.group(1).decode()] = item[1]
            else:
                pending = item[1]
        elif isinstance(item, bytes) and pending is not None:
            uid = _UID.search(item)
            if uid is not None:
                found[uid.group(1).decode()] = pending
            pending = None
    return found


def _mark_done(client: BaseMailBox, uids: list[str], mailbox: Mailbox) -> None:
    if not uids:
        return
    if mailbox.imap_processed_folder:
        client.move(uids, mailbox.imap_processed_folder)
    else:
        client.flag(uids, MailMessageFlags.SEEN, True)


def _describe(mailbox: Mailbox, exc: BaseException) -> str:
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    if isinstance(exc, MailboxLoginError):
        return (
            f"Could not log in to {where} as {mailbox.imap_username}: {exc}. "
            "Check the username and password."
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"The TLS connection to {where} failed: {exc}. Check the security setting "
            "(IMAPS is usually port 993, STARTTLS port 143) and the server's certificate."
        )
    if isinstance(exc, ImapToolsError | imaplib.IMAP4.error):
        return f"The IMAP server {where} refused a command: {exc}. Check the folder names."
    return (
        f"Could not reach {where}: {exc}. Check the host and port, and that the server "
        "accepts connections from here."
    )


def mailbox_poll(*, mailbox_id: int) -> PollResult:
    """Fetch, store and process the unread mail of one mailbox; record how it went.

    Server and network errors are recorded on the mailbox (shown in the admin); database
    errors propagate so the task fails and the mail stays unread for the next poll.
    """
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    fetched = 0
    deadline = time.monotonic() + POLL_SECONDS
    failed: Exception | None = None
    try:
        with _connect(mailbox) as client:
            uids = list(client.uids(AND(seen=False)))
            sizes = _sizes(client, uids) if uids else {}
            for batch in _batches(uids, sizes):
                payloads = _fetch_many(client, batch)
                present = [uid for uid in batch if uid in payloads]
                outcomes = email_receive_and_process_many(
                    payloads=[payloads[uid] for uid in present],
                    source=f"imap:{mailbox.address}",
                    mailbox=mailbox,
                )
                # Committed (a ticket message, or quarantined): only these are marked done.
                # The rest stays unread for the next poll.
                done = [
                    uid for uid, o in zip(present, outcomes, strict=True) if o.value is not None
                ]
                _mark_done(client, done, mailbox)
                fetched += len(done)
                failed = next((o.error for o in outcomes if o.error is not None), None)
                if failed is not None or time.monotonic() > deadline:
                    break
    except (ImapToolsError, imaplib.IMAP4.error, OSError) as exc:
        # ssl.SSLError and socket timeouts are OSErrors.
        error = _describe(mailbox, exc)
        logger.warning("polling mailbox %s failed: %s", mailbox.address, error)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error=error[:5000], last_error_at=timezone.now()
        )
        return PollResult(fetched=fetched, error=error)
    if failed is not None:
        # Stored for a retry (ProcessingDeferred), or not stored at all (the database is
        # gone): the task fails, and what is unread is fetched again by the next poll.
        raise failed
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=timezone.now(), last_error="")
    return PollResult(fetched=fetched)


def mailboxes_to_poll() -> list[int]:
    return list(
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
