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

from helpdesk.layers import relay_url_for


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
            "web": [python, "-m", "uvicorn", "helpdesk.asgi:application", "--host", host,
                    "--port", port, "--no-access-log", "--lifespan", "off"],
            "worker": [python, "-m", "celery", "-A", "helpdesk", "worker", celery_level,
                       *pool],
            "beat": [python, "-m", "celery", "-A", "helpdesk", "beat", celery_level,
                     "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
        }  # fmt: skip
        call_command("collectstatic", interactive=False, verbosity=0)
        # Without Redis the web server's channel layer is in its memory: the worker and
        # beat relay what they publish to it (helpdesk/layers.py).
        base_env = {**os.environ, "PUBLIC_BASE_URL": _public_base_url(host, port)}
        relay_env = {**base_env, "HELPDESK_LAYER_RELAY_URL": relay_url_for(host, port)}
        web_env = {k: v for k, v in base_env.items() if k != "HELPDESK_LAYER_RELAY_URL"}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        for name, cmd in commands.items():
            # Each child in its own process group: Ctrl-C reaches us once, and we stop them
            # in order instead of racing their own SIGINT handlers.
            env = web_env if name == "web" else relay_env
            procs[name] = subprocess.Popen(cmd, start_new_session=True, env=env)
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
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        self.stdout.write("Stopped.")


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
