"""Fixtures for the email channel: the .eml corpus, a mailbox, a real Dovecot IMAP
server and a real aiosmtpd SMTP server, both on loopback."""

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from channels_app.email.inbound import email_receive_and_process
from channels_app.ingest import IngestResult
from channels_app.models import ImapSecurity, Mailbox, RawInbound
from tests.live_server import free_port

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "email"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MAIL_UID = 65534  # nobody: Dovecot refuses to deliver mail as root

# Running as an ordinary user (CI without root): every Dovecot process runs as that user.
UNPRIVILEGED_CONF = """
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
service anvil {{
  chroot =
}}
"""


def eml(name: str, **replace: str) -> bytes:
    data = (PAYLOADS / name).read_bytes()
    for old, new in replace.items():
        data = data.replace(old.encode(), new.encode())
    return data


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Notification throttles and poll locks live in the cache (this worktree's Redis db).
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def load_eml() -> Any:
    return eml


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    return Mailbox.objects.create(
        name="Support", address="support@helpdesk.test", is_default=True, send_acknowledgement=False
    )


def receive(payload: bytes, mailbox: Mailbox | None = None) -> tuple[IngestResult | None, Any]:
    # As IMAP and the pipe do: stored and processed in one transaction.
    raw, result = email_receive_and_process(payload=payload, source="test", mailbox=mailbox)
    return result, RawInbound.objects.get(pk=raw.pk)


@pytest.fixture
def deliver() -> Any:
    """Store and process one message as every way in does; returns (result, raw)."""
    return receive


# --- Dovecot ----------------------------------------------------------------------------


@dataclass
class Dovecot:
    host: str
    port: int
    root: Path
    users: Iterator[str] = field(default_factory=lambda: (f"user{n}" for n in itertools.count()))
    password: str = "pw"

    def new_user(self) -> str:
        return next(self.users)


DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
{unprivileged}
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  {chroot}
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not os.path.exists(DOVECOT):
        pytest.fail("Dovecot is missing: apt-get install dovecot-imapd (.ci/run does).")
    # Not pytest's tmp_path: that is private to root, and Dovecot's mail processes run as
    # an unprivileged user that must reach the maildir.
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    uid, unprivileged = MAIL_UID, ""
    if os.geteuid() == 0:
        os.chown(root / "mail", MAIL_UID, MAIL_UID)
    else:
        import grp
        import pwd

        uid = os.geteuid()
        unprivileged = UNPRIVILEGED_CONF.format(
            user=pwd.getpwuid(uid).pw_name, group=grp.getgrgid(os.getegid()).gr_name
        )
    (root / "users").write_text("".join(f"user{n}:{{PLAIN}}pw::::::\n" for n in range(200)))
    port = free_port()
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(
            root=root,
            port=port,
            uid=uid,
            gid=uid if uid == MAIL_UID else os.getegid(),
            unprivileged=unprivileged,
            chroot="chroot =" if unprivileged else "",
        )
    )
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (root / "dovecot.log").read_text()
                        if (root / "dovecot.log").exists()
                        else ""
                    )
                    pytest.fail(f"Dovecot did not start on port {port}:\n{log}")
                time.sleep(0.1)
        yield Dovecot(host="127.0.0.1", port=port, root=root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_mailbox(db: None, dovecot: Dovecot) -> Mailbox:
    return Mailbox.objects.create(
        name="Support",
        address="support@helpdesk.test",
        is_default=True,
        send_acknowledgement=False,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security=ImapSecurity.NONE,
        imap_username=dovecot.new_user(),
        imap_password=dovecot.password,
    )


# --- aiosmtpd ---------------------------------------------------------------------------


class Collector:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 OK"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Collector]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield collector
    finally:
        controller.stop()
