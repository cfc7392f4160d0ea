"""The production stack the load benchmark runs against, started on free loopback ports.

web (uvicorn with two workers, as docker-compose.yml), a Celery worker (concurrency 2,
as docker-compose.yml) and beat, all with DEBUG off, on the benchmark's PostgreSQL
database and Redis; an SMTP sink (aiosmtpd) they mail to; and a poller that samples
PostgreSQL's connections to that database. Everything stops when the `Stack` context
exits, whatever happened inside it.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
# docker-compose.yml runs uvicorn --workers 2; BENCH_LOAD_WEB_WORKERS tries another number.
WEB_WORKERS = int(os.environ.get("BENCH_LOAD_WEB_WORKERS", "2"))
WORKER_CONCURRENCY = 2  # docker-compose.yml: celery worker --concurrency=2
# Connection names, so the poller can tell who holds what (libpq's application_name).
APP_NAMES = {"web": "helpdesk-web", "worker": "helpdesk-worker", "beat": "helpdesk-beat"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_application_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = "&".join(p for p in (parts.query, f"application_name={name}") if p)
    return urlunsplit(parts._replace(query=query))


# --- the SMTP sink ----------------------------------------------------------------------


@dataclass
class Mail:
    recipients: tuple[str, ...]
    subject: str


@dataclass
class SmtpSink:
    """Records every message the stack sends: (recipients, subject)."""

    port: int = 0
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        subject = str(make_header(decode_header(message.get("Subject", ""))))
        with self.lock:
            self.mails.append(Mail(tuple(r.lower() for r in envelope.rcpt_tos), subject))
        return "250 OK"

    def recipients(self, subject_contains: str = "") -> Counter[str]:
        with self.lock:
            return Counter(
                r for m in self.mails if subject_contains in m.subject for r in m.recipients
            )


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- PostgreSQL connections ---------------------------------------------------------------


@dataclass
class ConnectionPoller:
    """Samples pg_stat_activity for one database every `interval` s, from a connection to
    the `postgres` database (so the poller never counts itself)."""

    dbname: str
    params: dict[str, Any]
    interval: float = 0.2
    samples: list[tuple[float, Counter[str]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def current(self) -> Counter[str]:
        import psycopg2

        conn = psycopg2.connect(dbname="postgres", **self.params)
        try:
            return self._sample(conn)
        finally:
            conn.close()

    def _sample(self, conn: Any) -> Counter[str]:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = %s "
                "GROUP BY 1",
                [self.dbname],
            )
            return Counter({name or "other": n for name, n in cursor.fetchall()})

    def _loop(self) -> None:
        import psycopg2

        conn = psycopg2.connect(dbname="postgres", **self.params)
        conn.autocommit = True
        try:
            while not self._stop.is_set():
                self.samples.append((time.monotonic(), self._sample(conn)))
                self._stop.wait(self.interval)
        finally:
            conn.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pg-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def peak(self, since: float = 0.0) -> tuple[int, Counter[str]]:
        """The highest total in samples taken after `since`, and each name's own peak."""
        window = [c for t, c in self.samples if t >= since]
        per_name: Counter[str] = Counter()
        for sample in window:
            for name, n in sample.items():
                per_name[name] = max(per_name[name], n)
        return max((sum(c.values()) for c in window), default=0), per_name


# --- the server processes -----------------------------------------------------------------


@dataclass
class Stack:
    port: int
    base_url: str
    secret_key: str
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], db_name: str) -> None:
        env = {**self.env, "DATABASE_URL": with_application_name(self.env["DATABASE_URL"], db_name)}
        log = (self.log_dir / f"{name}.log").open("wb")
        # A session of its own: stopping it reaches uvicorn's and Celery's children too.
        self.processes[name] = subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each part, its child processes included
        (uvicorn's workers, Celery's pool): each part runs in a process group of its own."""
        groups = {proc.pid: name for name, proc in self.processes.items()}
        used = dict.fromkeys(self.processes, 0.0)
        tick = os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            name = groups.get(int(fields[2]))  # the process group
            if name is not None:
                used[name] += (int(fields[11]) + int(fields[12])) / tick
        return used

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}; see {self.log_dir / name}.log"
                )

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def wait_healthy(self, timeout: float = 90) -> None:
        """Until /healthz answers 200 (database, cache, broker and a worker heartbeat)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")[:300]
            except OSError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise RuntimeError(f"the stack did not become healthy in {timeout:.0f} s: {last}")


def production_env(*, port: int, smtp_port: int, var_dir: Path, secret_key: str,
                   extra: dict[str, str]) -> dict[str, str]:  # fmt: skip
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "HELPDESK_", "BENCH_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        DEBUG="false",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        # The benchmark speaks plain HTTP on loopback; production sits behind TLS.
        SECURE_SSL_REDIRECT="false",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        HELPDESK_VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        # Nothing may leave loopback: a text the stack tried to send would hit a closed port.
        HELPDESK_TWILIO_API_BASE="http://127.0.0.1:9",
        HELPDESK_TWILIO_TIMEOUT="2",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@contextmanager
def production_stack(*, smtp_port: int, var_dir: Path, extra: dict[str, str]) -> Iterator[Stack]:
    """Collect static files, start web, worker and beat; yield once /healthz says ok."""
    port = free_port()
    secret_key = secrets.token_urlsafe(50)  # a fresh one per run: no session outlives it
    env = production_env(port=port, smtp_port=smtp_port, var_dir=var_dir,
                         secret_key=secret_key, extra=extra)  # fmt: skip
    log_dir = var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    # DEBUG off serves hashed static files from the manifest, as the Dockerfile builds it.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR, env=env, check=True,
    )  # fmt: skip
    stack = Stack(port=port, base_url=f"http://127.0.0.1:{port}", secret_key=secret_key,
                  env=env, log_dir=log_dir)  # fmt: skip
    python = sys.executable
    try:
        stack.start(
            "web",
            [python, "-m", "uvicorn", "helpdesk.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(WEB_WORKERS), "--lifespan", "off",
             "--no-access-log"],
            APP_NAMES["web"],
        )  # fmt: skip
        stack.start(
            "worker",
            [python, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel=WARNING",
             f"--concurrency={WORKER_CONCURRENCY}", "--hostname", f"bench-load-{port}@%h"],
            APP_NAMES["worker"],
        )  # fmt: skip
        stack.start(
            "beat",
            [python, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel=WARNING",
             "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
             "--pidfile", str(var_dir / "beat.pid")],
            APP_NAMES["beat"],
        )  # fmt: skip
        stack.wait_healthy()
        yield stack
    finally:
        stack.stop()
