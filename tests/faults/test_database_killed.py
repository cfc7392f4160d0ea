"""Database connections killed (pg_terminate_backend) while mail is piped in: the pipe
exits 0 or 75, never anything an MTA would bounce on, and 75 plus the MTA's redelivery
gives exactly one message per mail."""

import threading
import time
import uuid

import psycopg2
import pytest
from django.db import connection, connections

from tests.faults.conftest import STACK_APP_NAME, mime
from tickets.models import Channel, Message

pytestmark = pytest.mark.timeout(150)

MAILS = 6
PIPES = 3
MAX_DELIVERIES = 6  # an MTA retries for days; six tries is plenty once the killing stops


class Killer(threading.Thread):
    """Terminates, in a loop, every connection the stack's processes hold to the test
    database (the web server's, the worker's, each ingest_email's), never this process's."""

    def __init__(self, spare_pid: int) -> None:
        super().__init__(daemon=True)
        self.spare_pid = spare_pid
        self.halt = threading.Event()
        self.killed = 0
        s = connection.settings_dict
        self.dsn = {
            "dbname": s["NAME"],
            "user": s["USER"],
            "password": s["PASSWORD"],
            "host": s["HOST"] or "127.0.0.1",
            "port": s["PORT"] or 5432,
        }

    def run(self) -> None:
        conn = psycopg2.connect(**self.dsn)
        conn.autocommit = True
        with conn.cursor() as cursor:
            while not self.halt.is_set():
                cursor.execute(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                    "pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = %s AND pid NOT IN (pg_backend_pid(), %s)) AS t",
                    [STACK_APP_NAME, self.spare_pid],
                )
                self.killed += cursor.fetchone()[0]
                time.sleep(0.01)
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_it_stores_each_mail_once_when_connections_are_killed(stack):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    killer = Killer(own_pid)
    ids = [f"{uuid.uuid4().hex}@customer.example.com" for _ in range(MAILS)]
    codes: dict[str, list[int]] = {message_id: [] for message_id in ids}

    def deliver(message_id: str) -> int:
        payload = mime(message_id, "killed@example.com", f"Killed {message_id[:8]}")
        code = stack.ingest_email(payload)
        codes[message_id].append(code)
        return code

    def pipe(batch: list[str]) -> None:
        for message_id in batch:
            deliver(message_id)

    killer.start()
    pipes = [threading.Thread(target=pipe, args=(ids[i::PIPES],)) for i in range(PIPES)]
    for thread in pipes:
        thread.start()
    for thread in pipes:
        thread.join(120)
    killer.halt.set()
    killer.join(10)
    # Connections of this process the killer reached (another thread's, or the test's own
    # after a reconnect) are dead now: close them, so no later test inherits one.
    connections.close_all()

    # The MTA redelivers what it kept (exit 75) until the pipe says stored.
    for message_id, tried in codes.items():
        while tried[-1] == 75 and len(tried) < MAX_DELIVERIES:
            deliver(message_id)

    every_code = [code for tried in codes.values() for code in tried]
    assert set(every_code) <= {0, 75}
    assert all(tried[-1] == 0 for tried in codes.values()), codes
    for message_id in ids:
        stored = Message.objects.filter(channel=Channel.EMAIL, external_id__contains=message_id)
        assert stored.count() == 1, message_id
    print(
        f"\n{MAILS} mails, {killer.killed} connections killed: exit codes "
        f"{sorted(every_code)}; {MAILS} stored once each"
    )
