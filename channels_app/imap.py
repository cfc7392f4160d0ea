"""IMAP polling: fetch unread mail, store it, process it, and only then mark it read.

Order matters: a message is flagged \\Seen (or moved to the processed folder) only after
it is stored and processed in committed transactions. A crash anywhere before that
leaves it unread on the server; the next poll reads it again and dedup on Message-ID
makes the second pass harmless. Nothing fetched is ever lost.
"""

import imaplib
import logging
import ssl
from dataclasses import dataclass

from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.consts import MailMessageFlags
from imap_tools.errors import ImapToolsError, MailboxLoginError

from channels_app.email_inbound import email_receive_and_process
from channels_app.models import ImapSecurity, Mailbox

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# Per poll, so one flooded mailbox cannot hold the worker for long; the rest waits a minute.
MAX_PER_POLL = 200


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


def _fetch_raw(client: BaseMailBox, uid: str) -> bytes | None:
    # BODY.PEEK leaves \Seen alone: the flag is ours to set, after the commit.
    status, data = client.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise ImapToolsError(f"FETCH {uid} failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None  # expunged meanwhile by another client


def _mark_done(client: BaseMailBox, uid: str, mailbox: Mailbox) -> None:
    if mailbox.imap_processed_folder:
        client.move(uid, mailbox.imap_processed_folder)
    else:
        client.flag(uid, MailMessageFlags.SEEN, True)


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
    try:
        with _connect(mailbox) as client:
            uids = client.uids(AND(seen=False))[:MAX_PER_POLL]
            for uid in uids:
                payload = _fetch_raw(client, uid)
                if payload is None:
                    continue
                # Committed when it returns, as a ticket message or quarantined; only then
                # is the mail marked done on the server.
                email_receive_and_process(
                    payload=payload, source=f"imap:{mailbox.address}", mailbox=mailbox
                )
                _mark_done(client, uid, mailbox)
                fetched += 1
    except (ImapToolsError, imaplib.IMAP4.error, OSError) as exc:
        # ssl.SSLError and socket timeouts are OSErrors.
        error = _describe(mailbox, exc)
        logger.warning("polling mailbox %s failed: %s", mailbox.address, error)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error=error[:5000], last_error_at=timezone.now()
        )
        return PollResult(fetched=fetched, error=error)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=timezone.now(), last_error="")
    return PollResult(fetched=fetched)


def mailboxes_to_poll() -> list[int]:
    return list(
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
