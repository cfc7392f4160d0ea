"""Load benchmark: concurrent users against the production stack on PostgreSQL and Redis.

Starts web (uvicorn, 2 workers), a Celery worker (concurrency 2) and beat with DEBUG off
on free loopback ports, mailing to a local SMTP sink (bench/load_stack.py); seeds a few
agents, tickets and an SMS number; then runs simulated users for a fixed time
(bench/load_users.py): agents on queue and ticket pages replying through the composer,
API clients (session and HTTP Basic) reading and replying, customers sending the web
form and SMS arriving through Twilio's signed webhook. It measures requests, errors,
p50/p95 per kind, the peak of PostgreSQL connections to the database, and, once the
worker has drained, whether every accepted form was acknowledged by mail and every
accepted reply mailed. Everything stops by itself; nothing leaves loopback.

    BENCH_LOAD_USERS=50      # concurrent users (default)
    BENCH_LOAD_SECONDS=20    # length of the load (default; the issue's size is 60)
    BENCH_LOAD_THINK=1.0     # mean pause between one user's steps, seconds
    BENCH_LOAD_TICKETS=100   # tickets seeded per run for agents and API clients
    BENCH_LOAD_DRAIN=60      # longest wait for the worker to send what was queued

Run alone with
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
    REDIS_URL=redis://127.0.0.1:6379/1 python -m bench load
"""

import asyncio
import dataclasses
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.load_stack import (
    WORKER_CONCURRENCY,
    ConnectionPoller,
    SmtpSink,
    Stack,
    production_stack,
    smtp_sink,
)
from bench.load_users import Mix, Plan, Results, is_error, run_users, warm_up

PAGE_TARGET_MS = 300
TARGETED = ("queue page", "ticket page", "form page", "API read (session)", "API read (Basic)")
SMS_NUMBER = "+14155550142"
SMS_ACCOUNT_SID = "AC" + "4" * 32
ACK_SUBJECT = "We received your request"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise SystemExit("bench_load needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")


def seed(*, run_id: str, users: int, tickets: int) -> dict[str, Any]:
    """Agents (one password, hashed once), a team, an SMS number and `tickets` fresh email
    tickets from customers whose addresses carry `run_id`."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from channels_app.inbound import Identity, InboundMessage
    from channels_app.ingest import inbound_message_ingest
    from channels_app.models import SmsNumber
    from helpdesk.roles import AGENTS_GROUP
    from tickets.models import Channel, IdentityKind, Team

    User = get_user_model()
    group, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
    team, _ = Team.objects.get_or_create(name="Load team")
    password = secrets.token_urlsafe(16)
    hashed = make_password(password)
    agents = []
    for i in range(users):
        user, _ = User.objects.get_or_create(
            username=f"load-agent-{i}", defaults={"first_name": "Load", "last_name": f"Agent {i}"}
        )
        agents.append(user)
    User.objects.filter(pk__in=[a.pk for a in agents]).update(password=hashed, is_active=True)
    group.user_set.add(*agents)
    team.members.add(*agents)
    token = secrets.token_hex(16)
    SmsNumber.objects.update_or_create(
        phone=SMS_NUMBER,
        defaults={"account_sid": SMS_ACCOUNT_SID, "auth_token": token, "team": team},
    )
    numbers, addresses = [], {}
    for i in range(tickets):
        address = f"{run_id}-c{i}@bench-customers.example"
        result = inbound_message_ingest(
            message=InboundMessage(
                channel=Channel.EMAIL,
                external_id=f"<{run_id}-{i}@bench-customers.example>",
                sender=Identity(IdentityKind.EMAIL, address, f"Bench Customer {i}"),
                subject=f"Order {run_id}-{i} arrived damaged",
                text="The box was crushed and the lamp inside is broken. What can I do?",
                html=None,
                received_at=timezone.now(),
                rfc_message_id=f"<{run_id}-{i}@bench-customers.example>",
                team_id=team.pk,
            )
        )
        numbers.append(result.ticket.number)
        addresses[result.ticket.number] = address
    return {
        "agents": [a.pk for a in agents],
        "usernames": [a.username for a in agents],
        "password": password,
        "tickets": numbers,
        "addresses": addresses,
        "sms_token": token,
    }


def agent_sessions(*, user_ids: list[int], secret_key: str) -> list[str]:
    """Signed-in sessions made as LoginView makes them, signed with the stack's key: the
    password hash a login costs is not what this benchmark measures."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import override_settings

    keys = []
    with override_settings(SECRET_KEY=secret_key):
        for user in get_user_model().objects.filter(pk__in=user_ids).order_by("pk"):
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            keys.append(str(store.session_key))
    return keys


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * q) - 1)] if ordered else 0.0


def _drain(sink: SmtpSink, results: Results, addresses: dict[int, str], before: int,
           timeout: float) -> tuple[int, int, float]:  # fmt: skip
    """Wait until every accepted form is acknowledged and every accepted reply mailed, or
    `timeout` s. Returns (forms acknowledged, replies mailed, seconds waited)."""
    forms = set(results.forms_accepted)
    replied_to = {addresses[n] for n in results.replies_accepted}
    started = time.monotonic()
    while True:
        acked = sink.recipients(ACK_SUBJECT)
        got = sink.recipients()
        forms_acked = sum(1 for email in forms if acked[email.lower()] > 0)
        replies_mailed = sum(got[a] for a in replied_to) - before
        waited = time.monotonic() - started
        done = forms_acked == len(forms) and replies_mailed >= len(results.replies_accepted)
        if done or waited > timeout:
            return forms_acked, replies_mailed, waited
        time.sleep(0.5)


def _worker_ready(timeout: float = 60) -> None:
    """A task round trip: /healthz may still see the heartbeat of an earlier run's worker."""
    from helpdesk.tasks import ping

    if ping.delay().get(timeout=timeout) != "pong":
        raise RuntimeError("the worker did not answer the ping")


def run() -> list[dict[str, Any]]:
    _setup()
    from django.conf import settings
    from django.db import connection

    users = int(os.environ.get("BENCH_LOAD_USERS", "50"))
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
    think = float(os.environ.get("BENCH_LOAD_THINK", "1.0"))
    tickets = int(os.environ.get("BENCH_LOAD_TICKETS", "100"))
    drain_timeout = float(os.environ.get("BENCH_LOAD_DRAIN", "60"))
    mix = Mix.for_users(users)
    run_id = uuid.uuid4().hex[:10]
    started = time.monotonic()
    data = seed(run_id=run_id, users=mix.session_users + mix.api_basic, tickets=tickets)
    sys.stderr.write(f"seeded {tickets} tickets in {time.monotonic() - started:.1f} s\n")
    db = connection.settings_dict
    params = {k: v for k in ("host", "port", "user", "password")
              if (v := db.get(k.upper()))}  # fmt: skip
    poller = ConnectionPoller(dbname=db["NAME"], params=params)
    var_dir = Path(settings.VAR_DIR) / "bench-load"
    # Every simulated customer comes from 127.0.0.1: the per-IP form limit would stop
    # them after 20 an hour. Per-address limits stay (each form has its own address).
    extra = {"HELPDESK_WEB_RATE_PER_IP": "1000000"}
    with (
        smtp_sink() as sink,
        production_stack(smtp_port=sink.port, var_dir=var_dir, extra=extra) as stack,
    ):
        _worker_ready()
        sessions = agent_sessions(user_ids=data["agents"][: mix.session_users],
                                  secret_key=stack.secret_key)  # fmt: skip
        basics = data["usernames"][mix.session_users :]
        connection.close()  # the benchmark's own connection is not the stack's
        plan = Plan(
            base_url=stack.base_url,
            run_id=run_id,
            agent_sessions=sessions,
            basic_credentials=[(u, data["password"]) for u in basics],
            tickets=data["tickets"],
            sms_to=SMS_NUMBER,
            sms_account_sid=SMS_ACCOUNT_SID,
            sms_auth_token=data["sms_token"],
            think=think,
            deadline=0.0,
        )
        asyncio.run(warm_up(plan))
        plan = dataclasses.replace(plan, deadline=time.monotonic() + seconds)
        before = sum(sink.recipients()[a] for a in data["addresses"].values())
        poller.start()
        cpu_before, client_before = stack.cpu_seconds(), _own_cpu()
        load_started = time.monotonic()
        sys.stderr.write(f"load: {users} users ({mix}) for {seconds:.0f} s\n")
        results = asyncio.run(run_users(plan, mix))
        load_seconds = time.monotonic() - load_started
        cpu = {k: v - cpu_before[k] for k, v in stack.cpu_seconds().items()}
        cpu["load client"] = _own_cpu() - client_before
        load_average = os.getloadavg()[0]
        peak, per_name = poller.peak(since=load_started)
        forms_acked, replies_mailed, waited = _drain(
            sink, results, data["addresses"], before, drain_timeout
        )
        time.sleep(2)  # let the last requests' connections close
        after = sum(poller.current().values())
        poller.stop()
        stack.check_alive()
        _report_errors(results, stack)
    return _rows(
        results=results, mix=mix, users=users, seconds=load_seconds, peak=peak,
        per_name=dict(per_name), after=after, forms_acked=forms_acked,
        replies_mailed=replies_mailed, waited=waited, sms_stored=_sms_stored(results),
        cpu=cpu, load_average=load_average,
    )  # fmt: skip


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sms_stored(results: Results) -> int:
    from tickets.models import Channel, Message

    return Message.objects.filter(channel=Channel.SMS, external_id__in=results.sms_accepted).count()


def _report_errors(results: Results, stack: Stack) -> None:
    if results.error_examples:
        sys.stderr.write("errors (first ones):\n  " + "\n  ".join(results.error_examples) + "\n")
        sys.stderr.write(f"server logs: {stack.log_dir}\n")


# Idle, the stack keeps no web connection: at most the worker's processes' and beat's.
IDLE_BOUND = WORKER_CONCURRENCY + 1 + 1


def connection_bound(users: int) -> int:
    """The most connections the stack can hold to PostgreSQL under this load.

    Without persistent connections (CONN_MAX_AGE=0) a web request holds one connection
    from its first query until it finishes, and a user has at most one request in flight:
    web <= users, whatever the number of uvicorn workers (each request runs on a thread of
    its own under ASGI, so threads do not bound it). The worker holds at most one per pool
    process, plus its main process; beat one.
    """
    return users + WORKER_CONCURRENCY + 1 + 1


def _rows(*, results: Results, mix: Mix, users: int, seconds: float, peak: int,
          per_name: dict[str, int], after: int, forms_acked: int, replies_mailed: int,
          waited: float, sms_stored: int, cpu: dict[str, float],
          load_average: float) -> list[dict[str, Any]]:  # fmt: skip
    name = f"load {users} users"
    samples = results.samples
    errors = sum(1 for s in samples if is_error(s.kind, s.status))
    rows: list[dict[str, Any]] = [
        {"benchmark": name, "metric": "seconds", "value": round(seconds, 1)},
        {"benchmark": name, "metric": "requests", "value": len(samples)},
        {"benchmark": name, "metric": "requests/s", "value": round(len(samples) / seconds, 1)},
        {"benchmark": name, "metric": "errors", "value": errors, "target": 0},
        # The machine's own business: a load average above its cores means the stack
        # waited for CPU behind other work, and the latencies below include that wait.
        {
            "benchmark": f"{name}: machine load average (1 min, at the end; {os.cpu_count()} "
            "cores)",
            "metric": "load",
            "value": round(load_average, 1),
        },
    ]
    for part, used in cpu.items():
        rows.append(
            {
                "benchmark": f"{name}: CPU used by {part}",
                "metric": "cores",
                "value": round(used / seconds, 2),
            }
        )
    rows.append(
        {
            "benchmark": f"{name}: web CPU per request",
            "metric": "ms",
            "value": round(1000 * cpu.get("web", 0.0) / max(1, len(samples)), 1),
        }
    )
    for kind in sorted({s.kind for s in samples}):
        times = [s.ms for s in samples if s.kind == kind]
        bench = f"{name}: {kind}"
        kind_errors = sum(1 for s in samples if s.kind == kind and is_error(s.kind, s.status))
        rows += [
            {"benchmark": bench, "metric": "requests", "value": len(times)},
            {"benchmark": bench, "metric": "p50 ms", "value": round(statistics.median(times), 1)},
            {"benchmark": bench, "metric": "p95 ms", "value": round(_percentile(times, 0.95), 1),
             "target": PAGE_TARGET_MS if kind in TARGETED else None},
        ]  # fmt: skip
        if kind_errors:
            rows.append({"benchmark": bench, "metric": "errors", "value": kind_errors,
                         "target": 0})  # fmt: skip
    parts = ", ".join(f"{k.removeprefix('helpdesk-')} {v}" for k, v in sorted(per_name.items()))
    forms = len(set(results.forms_accepted))
    rows += [
        {"benchmark": f"{name}: PostgreSQL connections (peak; {parts})", "metric": "max",
         "value": peak, "target": connection_bound(users)},
        {"benchmark": f"{name}: PostgreSQL connections 2 s after the load", "metric": "count",
         "value": after, "target": IDLE_BOUND},
        {"benchmark": f"{name}: web forms accepted", "metric": "count", "value": forms},
        {"benchmark": f"{name}: web forms not acknowledged (drained in {waited:.0f} s)",
         "metric": "count", "value": forms - forms_acked, "target": 0},
        {"benchmark": f"{name}: replies accepted", "metric": "count",
         "value": len(results.replies_accepted)},
        {"benchmark": f"{name}: accepted replies not mailed", "metric": "count",
         "value": max(0, len(results.replies_accepted) - replies_mailed), "target": 0},
        {"benchmark": f"{name}: SMS accepted, not stored", "metric": "count",
         "value": len(results.sms_accepted) - sms_stored, "target": 0},
    ]  # fmt: skip
    return rows


if __name__ == "__main__":
    from bench.__main__ import _setup_django, print_table

    _setup_django()
    print_table(run())
