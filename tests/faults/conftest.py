"""The fault suite's stack: a private redis-server the test stops and starts, and real
processes (the ASGI web server, Celery workers, the MTA pipe command) on the test
database, each started with its own environment and stopped by the fixture.

Everything runs on loopback ports picked at random; every wait is bounded.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from tests.live_server import SmtpSink, free_port

ROOT = Path(__file__).resolve().parents[2]
RAW_SECRET = "fault-suite-secret"


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class PrivateRedis:
    """A redis-server of the test's own: nothing persisted, stopped and started at will."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log = log_dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                 "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.log.parent)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(self.answers, 10, "redis-server to accept connections", every=0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("the fault suite needs redis-server on PATH (apt-get install redis-server)")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Stack:
    """Real processes on the test database and the private Redis."""

    def __init__(self, redis: PrivateRedis, smtp_port: int, var_dir: Path) -> None:
        self.redis = redis
        self.web_port = free_port()
        self.var_dir = var_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            # libpq names every connection the stack's processes open, so a fault can
            # target theirs and never the test process's own.
            "PGAPPNAME": STACK_APP_NAME,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "DEBUG": "true",
            "ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_BASE_URL": self.url,
            "HELPDESK_RAW_EMAIL_SECRET": RAW_SECRET,
            "HELPDESK_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
            # One test client posts every form: the per-address limit is not under test.
            "HELPDESK_WEB_RATE_PER_IP": "10000",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER"):
            self.env.pop(name, None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _spawn(self, name: str, args: list[str], **env: str) -> subprocess.Popen[bytes]:
        log = (self.var_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env={**self.env, **env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def web(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(
            "web",
            ["-m", "uvicorn", "helpdesk.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.web_port), "--lifespan", "off", "--no-access-log",
             "--no-proxy-headers"],
        )  # fmt: skip

        def up() -> bool:
            assert proc.poll() is None, f"the web server exited: {self.log('web')}"
            try:
                return requests.get(f"{self.url}/kb/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, 40, "the web server to answer", every=0.2)
        return proc

    def worker(
        self, name: str = "worker", concurrency: int = 0, **env: str
    ) -> subprocess.Popen[bytes]:
        """A Celery worker: the solo pool, or prefork with `concurrency` processes."""
        pool = ["--concurrency", str(concurrency)] if concurrency else ["--pool", "solo"]
        return self._spawn(
            name,
            ["-m", "celery", "-A", "helpdesk", "worker", *pool, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "-n", f"{name}@%h"],
            **env,
        )  # fmt: skip

    def run(self, code: str, timeout: float = 60, **env: str) -> str:
        """Run Python in a fresh process configured like the stack (a relay, a sweep)."""
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + code],
            cwd=ROOT, env={**self.env, **env}, capture_output=True, timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        return done.stdout.decode()

    def popen_code(self, code: str, name: str, **env: str) -> subprocess.Popen[bytes]:
        """Start Python in a process configured like the stack, logging to `name`.log."""
        return self._spawn(name, ["-c", "import django; django.setup()\n" + code], **env)

    def ingest_email(self, mime: bytes, timeout: float = 60) -> int:
        """Pipe one message into `manage.py ingest_email`, as an MTA does; the exit code."""
        done = subprocess.run(
            [sys.executable, "manage.py", "ingest_email"], input=mime, cwd=ROOT, env=self.env,
            capture_output=True, timeout=timeout,
        )  # fmt: skip
        if done.returncode not in (0, 75):
            raise AssertionError(f"ingest_email exited {done.returncode}: {done.stderr!r}")
        return done.returncode

    def log(self, name: str, tail: int = 4000) -> str:
        """The end of a process's output (all of it with tail=0)."""
        path = self.var_dir / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Signal the process and its children (a session of its own)."""
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        proc.wait(20)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture
def stack(
    transactional_db: None, private_redis: PrivateRedis, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[Stack]:
    running = Stack(private_redis, smtp_sink.port, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
        connection.close()


STACK_APP_NAME = "helpdesk-fault-stack"


def mime(message_id: str, sender: str, subject: str, body: str = "Hello.") -> bytes:
    return (
        f"From: Customer <{sender}>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\nDate: Wed, 02 Dec 2026 06:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()
