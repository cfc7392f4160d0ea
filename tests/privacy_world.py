"""A person who reached the desk every way there is, built through the real entry paths,
and the tools to look for them afterwards in every table and every stored file."""

import email.message
import json
import uuid
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection

from channels_app.chat.services import chat_message_receive, chat_visitor_identify
from channels_app.email.inbound import email_receive_and_process
from channels_app.ingest import raw_inbound_store
from channels_app.models import ChatChannel, RawInbound, SmsNumber
from channels_app.sms.services import sms_inbound_receive
from tests.factories import TeamFactory
from tickets.models import Channel, Customer, SatisfactionRating, Status, Ticket
from tickets.portal.models import PortalSignIn
from tickets.portal.services import WebRequest, satisfaction_rating_submit, web_request_submit
from tickets.portal.views import DONE_KEY, SESSION_KEY
from tickets.services import message_reply, note_add, ticket_set_status
from tickets.uploads import CheckedFile

OUR_NUMBER = "+14155550100"


@dataclass
class Person:
    marker: str  # in their name, address, texts, file names and file contents
    email: str
    phone: str
    customer: Customer
    visitor_id: str
    tickets: dict[str, Ticket] = field(default_factory=dict)
    session_keys: list[str] = field(default_factory=list)

    @property
    def needles(self) -> list[str]:
        return [self.marker, self.email, self.phone.lstrip("+"), self.visitor_id]


def _mime(*, sender: str, name: str, subject: str, body: str, message_id: str) -> bytes:
    msg = email.message.EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = "support@desk.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    msg.add_attachment(
        b"%PDF-1.4\n" + f"receipt for {name} {sender}\n".encode(),
        maintype="application",
        subtype="pdf",
        filename=f"{name.split()[0].lower()}-receipt.pdf",
    )
    return msg.as_bytes()


def person_build(*, marker: str, agent: Any, phone: str) -> Person:
    """A customer with a web-form, email, SMS and chat ticket, attachments, a rating, an
    agent's reply and note, portal sign-ins and sessions, and a quarantined payload."""
    name = f"{marker.capitalize()} Person"
    address = f"{marker}@example.org"
    web = web_request_submit(
        request=WebRequest(
            name=name,
            email=address,
            phone=phone,
            subject=f"{marker} web form request",
            description=f"My account {marker} is locked",
            submission_id=uuid.uuid4().hex,
            files=(
                CheckedFile(
                    filename=f"{marker}-screenshot.txt",
                    content_type="text/plain",
                    content=f"screenshot of {marker}".encode(),
                ),
            ),
            client_ip="203.0.113.9",
        )
    )
    assert web.ticket is not None
    customer = web.ticket.customer
    _, mail = email_receive_and_process(
        payload=_mime(
            sender=address,
            name=name,
            subject=f"{marker} order",
            body=f"Hello, this is {name}, my order {marker}-42 is late.",
            message_id=f"<{uuid.uuid4().hex}@{marker}.example.org>",
        ),
        source="imap:test",
    )
    assert mail is not None and mail.ticket.customer_id == customer.pk
    number, _ = SmsNumber.objects.get_or_create(
        phone=OUR_NUMBER,
        defaults={"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32, "team": TeamFactory()},
    )
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": number.account_sid,
        "From": phone,
        "To": OUR_NUMBER,
        "Body": f"sms from {marker}",
        "NumMedia": "0",
    }
    sms = sms_inbound_receive(number=number, payload=urlencode(form).encode(), meta={})
    assert sms is not None and sms.ticket.customer_id == customer.pk
    chat_channel, _ = ChatChannel.objects.get_or_create(
        name="Website", defaults={"allowed_domains": "shop.example.com"}
    )
    visitor_id = uuid.uuid4().hex
    chat_visitor_identify(visitor_id=visitor_id, name=name, email=address)
    chat = chat_message_receive(
        channel=chat_channel, visitor_id=visitor_id, client_id="c1", text=f"chat from {marker}"
    )
    chat_ticket = Ticket.objects.get(number=chat.ticket_number)
    assert chat_ticket.customer_id == customer.pk
    # The agent's side: a reply that names them (queued in the outbox), an internal note,
    # a solve and the customer's rating with a comment.
    message_reply(
        ticket=mail.ticket, author=agent, body_text=f"Hello {name}, on its way.", channel="email"
    )
    note_add(ticket=mail.ticket, author=agent, body_text=f"{name} called about {marker}")
    ticket_set_status(ticket=web.ticket, status=Status.SOLVED, actor=agent)
    satisfaction_rating_submit(
        ticket=Ticket.objects.get(pk=web.ticket.pk),
        customer_id=customer.pk,
        score=2,
        comment=f"{marker} was not happy",
    )
    # A payload that never became a message, naming them.
    raw_inbound_store(
        channel=Channel.EMAIL,
        adapter="email",
        source="imap:test",
        payload=f"From: {address}\r\nnot quite mail".encode(),
    )
    PortalSignIn.objects.create(nonce=uuid.uuid4().hex[:32], customer=customer)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    signed_in = store()
    signed_in[SESSION_KEY] = {"c": customer.pk, "e": address, "s": 1}
    signed_in.create()
    thanks = store()
    thanks[DONE_KEY] = {"number": web.ticket.number, "raw": web.raw_id, "email": address}
    thanks.create()
    return Person(
        marker=marker,
        email=address,
        phone=phone,
        customer=Customer.objects.get(pk=customer.pk),
        visitor_id=visitor_id,
        tickets={"web": web.ticket, "email": mail.ticket, "sms": sms.ticket, "chat": chat_ticket},
        session_keys=[signed_in.session_key, thanks.session_key],
    )


# --- looking for traces -----------------------------------------------------------------

_TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


def database_traces(needles: list[str]) -> list[str]:
    """Every table.column whose value holds one of `needles` (case-insensitive), read in
    the test's own connection: text, JSON and arrays as text, bytea as its bytes, and the
    sessions decoded (their data is signed base64, which a plain search cannot see)."""
    from django.contrib.sessions.models import Session

    walk = _postgres_traces if connection.vendor == "postgresql" else _sqlite_traces
    found = walk(needles)
    for session in Session.objects.all():
        text = json.dumps(session.get_decoded()).lower()
        found += [f"django_session holds {n!r}" for n in needles if n.lower() in text]
    return found


def _postgres_traces(needles: list[str]) -> list[str]:
    found: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        for table, column, data_type in cursor.fetchall():
            if data_type == "bytea":
                expression = f"lower(encode(\"{column}\", 'escape'))"
            elif data_type in _TEXT_TYPES:
                expression = f'lower("{column}"::text)'
            else:
                continue
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE strpos({expression}, %s) > 0',  # noqa: S608
                    [needle.lower()],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column} holds {needle!r}")
    return found


def _sqlite_traces(needles: list[str]) -> list[str]:
    """The same walk on SQLite: every column of every table (FTS5 shadow tables too), each
    value read as text (a BLOB's bytes as they are)."""
    found: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'PRAGMA table_info("{table}")')
            for column in [row[1] for row in cursor.fetchall()]:
                for needle in needles:
                    cursor.execute(
                        f'SELECT count(*) FROM "{table}" '  # noqa: S608
                        f'WHERE instr(lower(CAST("{column}" AS TEXT)), %s) > 0',
                        [needle.lower()],
                    )
                    if cursor.fetchone()[0]:
                        found.append(f"{table}.{column} holds {needle!r}")
    return found


def file_traces(needles: list[str]) -> list[str]:
    """Every stored file (MEDIA_ROOT, HELPDESK_VAR_DIR) whose name or bytes hold a needle."""
    found: list[str] = []
    roots = {Path(settings.MEDIA_ROOT), Path(settings.VAR_DIR)}
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            # The SQLite database (and its WAL) is searched through SQL instead.
            if not path.is_file() or ".sqlite3" in path.name or path.suffix == ".pid":
                continue
            data = path.read_bytes().lower()
            for needle in needles:
                if needle.lower().encode() in data or needle.lower() in str(path).lower():
                    found.append(f"{path} holds {needle!r}")
    return found


def raw_of(ticket: Ticket) -> list[RawInbound]:
    return list(RawInbound.objects.filter(messages__ticket=ticket).distinct())


def rating_of(ticket: Ticket) -> SatisfactionRating:
    return SatisfactionRating.objects.get(ticket=ticket)


def pg_dump_traces(needles: list[str]) -> list[str]:
    """Lines of `pg_dump --data-only` of the database under test that hold a needle, as
    text or (bytea columns are dumped as hex) as hex. Sees committed data only."""
    import subprocess

    db = connection.settings_dict
    command = ["pg_dump", "--data-only", "--no-owner", "-d", db["NAME"]]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    env = {"PGPASSWORD": str(db.get("PASSWORD") or ""), "PATH": "/usr/bin:/bin"}
    dump = subprocess.run(command, capture_output=True, check=True, env=env).stdout.lower()
    found = []
    for needle in needles:
        # Without its first letter, so a capitalized name matches too.
        for form in (needle.lower().encode(), needle.lower()[1:].encode().hex().encode()):
            found += [
                f"{line[:80]!r} holds {needle!r}" for line in dump.splitlines() if form in line
            ]
    return found
