"""`make run`: the ASGI server, a Celery worker and beat, side by side; Ctrl-C stops all."""

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from helpdesk.lib.layers import relay_url_for


class Command(BaseCommand):
    help = "Serve the whole app (web, worker, beat) on one machine until interrupted."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, host: str, port: str, **options: Any) -> None:
        _require_free_port(host, port)
        python = sys.executable
        embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # On SQLite one worker process keeps writers few; on PostgreSQL use both cores.
        pool = ["--pool=solo"] if embedded else ["--concurrency=2"]
        # Periodic tasks run every few seconds: at INFO the worker and beat would log a
        # line for each, burying what a newcomer looks for (the mails, the errors).
        celery_level = f"--loglevel={os.environ.get('LOG_LEVEL', 'WARNING')}"
        commands = {
            # --no-proxy-headers: uvicorn would otherwise take the client's address from
            # X-Forwarded-For on loopback connections, which anyone can write;
            # helpdesk.lib.net reads it from HELPDESK_TRUSTED_PROXIES only.
            "web": [python, "-m", "uvicorn", "helpdesk.asgi:application", "--host", host,
                    "--port", port, "--no-access-log", "--lifespan", "off",
                    "--no-proxy-headers"],
            "worker": [python, "-m", "celery", "-A", "helpdesk", "worker", celery_level,
                       *pool],
            "beat": [python, "-m", "celery", "-A", "helpdesk", "beat", celery_level,
                     "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
        }  # fmt: skip
        call_command("collectstatic", interactive=False, verbosity=0)
        # Without Redis the web server's channel layer is in its memory: the worker and
        # beat relay what they publish to it (helpdesk/lib/layers.py).
        base_env = {**os.environ, "PUBLIC_BASE_URL": _public_base_url(host, port)}
        relay_env = {**base_env, "HELPDESK_LAYER_RELAY_URL": relay_url_for(host, port)}
        web_env = {k: v for k, v in base_env.items() if k != "HELPDESK_LAYER_RELAY_URL"}
        envs = {name: web_env if name == "web" else relay_env for name in commands}
        children = {name: _Child(name, cmd, envs[name]) for name, cmd in commands.items()}
        for child in children.values():
            child.start()
        self.stdout.write(
            self.style.SUCCESS(
                f"Help desk on {base_env['PUBLIC_BASE_URL']}/  (Ctrl-C stops everything)\n"
                "Agents sign in at /agent/login/ (demo: agent/agent, admin/admin). Mail is "
                "printed here, one line each, with the link to click."
            )
        )
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for child in children.values():
                    stopping = child.supervise(self.stderr.write) or stopping
                time.sleep(0.5)
        finally:
            live = [c.proc for c in children.values() if c.proc and c.proc.poll() is None]
            for proc in live:
                os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in live:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        self.stdout.write("Stopped.")


# A worker or beat that dies (a crash, the OOM killer, a broker outage it gave up on) is
# started again after a pause that doubles up to a minute while it keeps dying, and
# starts over once it has stayed up. The web server exiting ends everything: it is what
# the person at the terminal uses, and it only exits on errors a restart will not fix
# (the port, the settings).
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 60.0
STABLE_AFTER = 60.0


class _Child:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name, self.cmd, self.env = name, cmd, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.delay = RESTART_FIRST_DELAY
        self.restart_at: float | None = None

    def start(self) -> None:
        # Each child in its own process group: Ctrl-C reaches us once, and we stop them in
        # order instead of racing their own SIGINT handlers.
        self.proc = subprocess.Popen(self.cmd, start_new_session=True, env=self.env)
        self.started_at = time.monotonic()
        self.restart_at = None

    def supervise(self, say: Any) -> bool:
        """Restart a dead child when its pause is over; True: stop everything."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                say(f"Restarting {self.name}.")
                self.start()
            return False
        if self.proc is None or self.proc.poll() is None:
            return False
        code = self.proc.returncode
        if self.name == "web":
            say(f"web exited with {code}; stopping.")
            return True
        if now - self.started_at >= STABLE_AFTER:
            self.delay = RESTART_FIRST_DELAY
        say(f"{self.name} exited with {code}; restarting it in {self.delay:.0f} s.")
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, RESTART_MAX_DELAY)
        return False


def _public_base_url(host: str, port: str) -> str:
    """The address links are built on: the one given, else where this serves, so that
    `make run PORT=8123` mails magic links to :8123, not the default :8000."""
    given = os.environ.get("PUBLIC_BASE_URL", "")
    if given:
        return given.rstrip("/")
    # A wildcard bind is reachable on loopback; a browser cannot open http://0.0.0.0.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _require_free_port(host: str, port: str) -> None:
    # Say so before starting anything: otherwise the worker and beat start, the web server
    # dies on "address already in use" and its message scrolls by in their logs.
    if not port.isdigit():
        raise CommandError(f"--port must be a number, not “{port}”.")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, int(port)))
        except OSError as exc:
            raise CommandError(
                f"Cannot serve on {host}:{port} ({exc.strerror}). Stop what is using it, "
                "or pick another port: make run PORT=8080"
            ) from exc
