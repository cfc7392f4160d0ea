"""manage.py ingest_email: exit 0 once stored, 75 when it could not store."""

import io
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError

from channels_app.models import RawInbound, RawStatus
from tests.channels_app.email.conftest import PAYLOADS
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def test_it_stores_a_message_from_a_file(mailbox):
    out = io.StringIO()

    call_command("ingest_email", str(PAYLOADS / "plain_encoded_words.eml"), stdout=out)

    ticket = Ticket.objects.get()
    assert f"#{ticket.number}" in out.getvalue()
    assert RawInbound.objects.get().source == "pipe"


def test_it_reads_stdin_when_no_file_is_given(mailbox):
    stdin = mock.Mock()
    stdin.buffer = io.BytesIO((PAYLOADS / "alternative.eml").read_bytes())

    with mock.patch.object(sys, "stdin", stdin):
        call_command("ingest_email", "--recipient", "support@helpdesk.test", stdout=io.StringIO())

    raw = RawInbound.objects.get()
    assert raw.meta["mailbox_id"] == str(mailbox.pk)
    assert Ticket.objects.get().subject == "Order late"


def test_it_succeeds_with_a_quarantined_message_because_it_is_stored(mailbox):
    out = io.StringIO()

    call_command("ingest_email", str(PAYLOADS / "not_an_email.eml"), stdout=out)

    assert RawInbound.objects.get().status == RawStatus.QUARANTINED
    assert "quarantined" in out.getvalue()


def test_it_exits_75_when_the_database_cannot_store_the_message():
    with (
        mock.patch(
            "channels_app.management.commands.ingest_email.email_receive_and_process",
            side_effect=OperationalError("could not connect to server"),
        ),
        pytest.raises(CommandError) as caught,
    ):
        call_command("ingest_email", str(PAYLOADS / "alternative.eml"))

    assert caught.value.returncode == 75
    assert "try again" in str(caught.value)


def test_it_exits_75_from_the_shell_when_the_database_is_down(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/helpdesk_nowhere",
        "HELPDESK_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "ingest_email", str(PAYLOADS / "alternative.eml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert done.returncode == 75, done.stderr.decode()
    assert b"Could not store the message" in done.stderr


@pytest.mark.parametrize(
    "error",
    [InterfaceError("connection already closed"), OSError(28, "No space left on device")],
)
def test_it_exits_75_on_any_fault_that_kept_the_message_from_being_stored(error):
    with (
        mock.patch(
            "channels_app.management.commands.ingest_email.email_receive_and_process",
            side_effect=error,
        ),
        pytest.raises(CommandError) as caught,
    ):
        call_command("ingest_email", str(PAYLOADS / "alternative.eml"))

    assert caught.value.returncode == 75
    assert "will try again later" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_it_stores_piped_mail_while_redis_is_down(tmp_path):
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "HELPDESK_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "ingest_email", str(PAYLOADS / "alternative.eml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr.decode()
    assert Ticket.objects.get().subject == "Order late"
    assert RawInbound.objects.get().status == RawStatus.PROCESSED
    assert b"Configuration cache unavailable, reading the database" in done.stderr
