"""Email ingest on PostgreSQL: realistic MIME through the whole inbound path, plus the
bounded-cost cases (25 MB message, HTML with thousands of links).

The path is the one IMAP polling takes (email_receive_and_process_many, in batches of
one IMAP fetch, on the worker's ingest lanes): each raw message is stored, parsed and
ingested in one transaction of its own (dedup, identity, threading, ticket, message,
attachments written to MEDIA_ROOT, followers, SLA recompute), and the live events are
published; the clock stops only once every event has been sent. Runs as a production
worker does (DEBUG off). Messages: mixed sizes, 10% with an attachment, 40% replies to
an earlier message of the same sender.

    BENCH_EMAIL_N=10000 python -m bench email     # the issue's full run (default 1000)
    python -m bench.bench_email                   # standalone
"""

import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created
from django.test import override_settings

BATCH = 50  # one IMAP fetch (channels_app.email.imap.FETCH_BATCH)


def _messages(count: int, run_id: str) -> list[bytes]:
    rng = random.Random(42)
    words = [
        "order", "invoice", "refund", "delivery", "package", "account", "password", "login",
        "printer", "broken", "please", "help", "thanks", "urgent", "question", "weekend",
    ]  # fmt: skip
    sent_ids: list[tuple[str, str]] = []  # (message id, sender) of earlier messages
    out = []
    for n in range(count):
        msg = EmailMessage()
        reply_to = sent_ids[rng.randrange(len(sent_ids))] if sent_ids and n % 5 < 2 else None
        sender = reply_to[1] if reply_to else f"bench{n % 2000}-{run_id}@example.com"
        msg["From"] = f"Customer {n} <{sender}>"
        msg["To"] = "bench@helpdesk.test"
        msg["Subject"] = ("Re: " if reply_to else "") + " ".join(rng.choices(words, k=6))
        message_id = f"<bench-{run_id}-{n}@example.com>"
        msg["Message-ID"] = message_id
        msg["Date"] = "Tue, 24 Nov 2026 10:00:00 +0000"
        if reply_to:  # 40%: replies to an earlier message of the same sender
            msg["In-Reply-To"] = reply_to[0]
            msg["References"] = reply_to[0]
        size = rng.choice((20, 80, 300, 2000))  # words: mixed sizes, mostly short
        text = " ".join(rng.choices(words, k=size))
        msg.set_content(text)
        if n % 3 == 0:
            msg.add_alternative(f"<p>{text}</p><p><a href='https://x.example'>link</a></p>", "html")
        if n % 10 == 0:  # 10%: an attachment of 20 to 300 kB
            msg.add_attachment(
                rng.randbytes(rng.randrange(20_000, 300_000)),
                maintype="application",
                subtype="pdf",
                filename=f"invoice-{n}.pdf",
            )
        sent_ids.append((message_id, sender))
        out.append(msg.as_bytes())
    return out


def _big_message(size_mb: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "big@example.com"
    msg["Subject"] = "Large attachment"
    msg.set_content("See attached.")
    # Just under the limit once base64 (4/3, plus line ends) has grown it.
    msg.add_attachment(os.urandom(int(size_mb * 1024 * 1024 * 0.73)), "application", "zip")
    return msg.as_bytes()


def _link_heavy_html(links: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "links@example.com"
    msg["Subject"] = "Newsletter"
    msg.set_content(
        "".join(f'<p><a href="https://x.example/{n}">item {n}</a></p>' for n in range(links)),
        "html",
    )
    return msg.as_bytes()


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run() -> list[dict[str, Any]]:
    from channels_app.email.adapter import parse
    from channels_app.email.inbound import email_receive_and_process_many
    from channels_app.models import Mailbox
    from tickets.events import events_flush
    from tickets.html import sanitize_html

    count = int(os.environ.get("BENCH_EMAIL_N", "1000"))
    run_id = uuid.uuid4().hex[:8]
    payloads = _messages(count, run_id)
    mailbox, _ = Mailbox.objects.get_or_create(
        address="bench@helpdesk.test",
        defaults={"name": "Bench", "send_acknowledgement": False},
    )
    timings: list[float] = []
    queries = [0]
    sql_seconds = [0.0]
    lock = threading.Lock()

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with lock:
                queries[0] += 1
                sql_seconds[0] += time.perf_counter() - started

    wrapped: list[Any] = []

    def count_on(sender: Any, connection: Any, **kwargs: Any) -> None:
        if counted not in connection.execute_wrappers:
            connection.execute_wrappers.append(counted)
            wrapped.append(connection)

    # Every thread's connection: the lane threads open their own as they start.
    count_on(None, connections["default"])
    connection_created.connect(count_on)

    results = []
    with (
        tempfile.TemporaryDirectory() as media,
        # As a production worker runs: DEBUG off, so no connection logs every statement.
        override_settings(MEDIA_ROOT=media, DEBUG=False),
    ):
        started = time.perf_counter()
        cpu_started = time.process_time()
        for start in range(0, count, BATCH):
            outcomes = email_receive_and_process_many(
                payloads=payloads[start : start + BATCH], source="bench", mailbox=mailbox
            )
            for outcome in outcomes:
                if outcome.error is not None:
                    raise outcome.error
                assert outcome.value is not None
                timings.append(outcome.seconds * 1000)
                results.append(outcome.value[1])
        cpu = time.process_time() - cpu_started
        events_flush(timeout=60)  # published in the background: count them in
        total = time.perf_counter() - started
        stored_files = sum(len(files) for _, _, files in os.walk(media))
    connection_created.disconnect(count_on)
    for conn in wrapped:
        conn.execute_wrappers.remove(counted)
    # The whole path ran: every message ingested once, every attachment on disk.
    ingested = [r for r in results if r is not None and not r.duplicate]
    assert len(ingested) == count, f"{count - len(ingested)} messages were not ingested"
    assert stored_files == (count + 9) // 10, f"{stored_files} attachment files stored"
    timings.sort()

    parse_started = time.perf_counter()
    for payload in payloads:
        parse(payload, {})
    parse_rate = count / (time.perf_counter() - parse_started)

    big = _big_message(25)
    big_ms = _timed(lambda: parse(big, {}))
    html = _link_heavy_html(5000)
    html_ms = _timed(lambda: sanitize_html(parse(html, {}).html or ""))
    name = f"email ingest ({count} msgs)"
    return [
        {"benchmark": name, "metric": "messages/s", "value": count / total, "target": ">= 200"},
        {"benchmark": name, "metric": "p50 ms", "value": statistics.median(timings)},
        {"benchmark": name, "metric": "p95 ms", "value": timings[int(len(timings) * 0.95) - 1]},
        {"benchmark": name, "metric": "queries/message", "value": queries[0] / count},
        {"benchmark": name, "metric": "in SQL ms/message", "value": sql_seconds[0] * 1000 / count},
        {"benchmark": name, "metric": "CPU ms/message (all threads)", "value": cpu * 1000 / count},
        {"benchmark": "email parse only (adapter)", "metric": "messages/s", "value": parse_rate},
        {"benchmark": "email parse 25 MB", "metric": "ms", "value": big_ms, "target": "< 2000"},
        {
            "benchmark": "email parse+sanitize 5000 links",
            "metric": "ms",
            "value": html_ms,
            "target": "< 2000",
        },
    ]


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    for row in run():
        target = row.get("target", "")
        print(f"{row['benchmark']:<40} {row['metric']:<12} {row['value']:>10.2f}  {target}")
