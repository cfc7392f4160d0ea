"""`make run` on the embedded default, end to end: no DATABASE_URL, no REDIS_URL.

Runs the real commands as a new user would (migrate, then serve_all with web, worker and
beat on SQLite and the filesystem broker), talks to them over HTTP, then presses Ctrl-C.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120  # two shared cores: generous, and only spent when something is wrong


def _free_port() -> int:
    # uvicorn needs a number on its command line; ask the OS for one that is free now.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields: state, ppid, ...
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"}
        and not key.startswith(("CELERY_", "PYTEST_"))
    }
    env.update(
        HELPDESK_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
        DJANGO_SUPERUSER_PASSWORD="admin-pw",
        HELPDESK_WEB_RATE_PER_IP="2",
    )
    return env


def _manage(env: dict[str, str], *args: str, timeout: int = 180) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def served(embedded_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, Any]]:
    _manage(embedded_env, "migrate", "--noinput")
    _manage(
        embedded_env, "createsuperuser", "--noinput", "--username", "boss", "--email", "b@x.test"
    )
    # An admin signs in with a second factor: boss has an authenticator with a known key.
    _manage(
        embedded_env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model;"
        "from django_otp.plugins.otp_totp.models import TOTPDevice;"
        "TOTPDevice.objects.create(user=get_user_model().objects.get(username='boss'),"
        f"name='phone', key='{BOSS_TOTP_KEY}')",
    )
    port = _free_port()
    log = (tmp_path / "serve_all.log").open("w+")
    # Its own process group, like the terminal's foreground group Ctrl-C goes to.
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve_all", "--port", str(port)],
        cwd=ROOT,
        env=embedded_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    children: list[int] = []
    try:
        yield {"proc": proc, "url": f"http://127.0.0.1:{port}", "log": log, "children": children}
    finally:
        children += _children(proc.pid)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in children:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
        log.close()


def _health(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _wait_healthy(served: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_SECONDS
    last: Any = "no answer"
    while time.monotonic() < deadline:
        assert served["proc"].poll() is None, "serve_all exited early:\n" + _log(served)
        try:
            status, body = _health(served["url"])
        except (OSError, ValueError) as exc:
            last = exc
        else:
            last = body
            if status == 200:
                return body
        time.sleep(1)
    raise AssertionError(f"/healthz never became healthy: {last}\n{_log(served)}")


def _log(served: dict[str, Any]) -> str:
    served["log"].flush()
    served["log"].seek(0)
    return str(served["log"].read())


def _post_form(
    opener: urllib.request.OpenerDirector,
    url: str,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
) -> tuple[str, str]:
    """GET the form at `url`, then POST it with its CSRF token: (final URL, page)."""
    page = opener.open(url, timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page[:500]
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    form = urllib.parse.urlencode({**hidden, "csrfmiddlewaretoken": token.group(1), **fields})
    request = urllib.request.Request(  # noqa: S310 (our own http://127.0.0.1 server)
        url, data=form.encode(), headers={"Referer": url, **(headers or {})}
    )
    try:
        with opener.open(request, timeout=30) as response:
            return response.geturl(), response.read().decode()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}", exc.read().decode()


def _opener() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


BOSS_TOTP_KEY = "3132333435363738393031323334353637383930"


def _second_factor(
    opener: urllib.request.OpenerDirector, url: str, landed: str, steps_ahead: int
) -> tuple[str, str] | None:
    """Past the password, the code boss's authenticator shows (None: none was asked)."""
    if landed != f"{url}/agent/2fa/verify/":
        return None
    totp = TOTP(bytes.fromhex(BOSS_TOTP_KEY))
    totp.time = time.time() + steps_ahead * 30  # django-otp takes each step once
    return _post_form(opener, landed, {"code": f"{totp.token():06d}"})


def _admin_login(url: str, username: str, password: str) -> str:
    fields = {"username": username, "password": password, "next": "/admin/"}
    opener = _opener()
    landed, page = _post_form(opener, f"{url}/admin/login/", fields)
    verified = _second_factor(opener, url, landed, steps_ahead=1)
    return verified[1] if verified else page


def _agent_pages(url: str, username: str, password: str) -> dict[str, int]:
    """Sign in as an agent, as the start page's link does, and open the first pages."""
    opener = _opener()
    landed, _ = _post_form(
        opener, f"{url}/agent/login/", {"username": username, "password": password}
    )
    verified = _second_factor(opener, url, landed, steps_ahead=0)
    if verified:
        landed = verified[0]
    assert landed == f"{url}/agent/", landed
    statuses = {}
    for path in ("/", "/agent/", "/agent/?view=unassigned&sort=sla", "/agent/counts/"):
        with opener.open(f"{url}{path}", timeout=30) as response:
            statuses[path] = (response.status, response.geturl().removeprefix(url))
    return statuses


def _wait_for_log(served: dict[str, Any], pattern: str, seconds: int = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, _log(served))
        if found:
            return found.group(0)
        time.sleep(0.5)
    raise AssertionError(f"{pattern!r} never appeared in the log:\n{_log(served)}")


def _chat_reply_reaches_the_visitor(served: dict[str, Any], env: dict[str, str]) -> str:
    from websockets.sync.client import connect

    key = _manage(
        env,
        "shell",
        "-c",
        "from channels_app.models import ChatChannel;"
        "print(ChatChannel.objects.create(name='Site', allowed_domains='shop.example.com').key)",
    ).split()[-1]
    ws_url = served["url"].replace("http://", "ws://") + f"/ws/chat/?channel={key}"
    with connect(ws_url, origin="https://shop.example.com") as socket:  # type: ignore[arg-type]
        socket.send(json.dumps({"type": "hello"}))
        assert json.loads(socket.recv(timeout=30))["type"] == "welcome"
        socket.send(json.dumps({"type": "message", "id": "c1", "text": "Is anyone there?"}))
        ack = json.loads(socket.recv(timeout=30))
        assert ack["type"] == "ack", ack
        _manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; from tickets.models import Ticket;"
            "from tickets.services import message_reply;"
            f"message_reply(ticket=Ticket.objects.get(number={ack['ticket']}),"
            "author=User.objects.get(username='boss'), body_text='Hi from the desk')",
        )
        while True:  # typing and status notes may come first
            pushed = json.loads(socket.recv(timeout=60))
            if pushed["type"] == "message":
                return str(pushed["text"])


def test_it_serves_web_worker_and_beat_on_the_embedded_default_until_ctrl_c(served, embedded_env):
    body = _wait_healthy(served)
    assert body["database"] == {"ok": True, "vendor": "sqlite"}
    assert body["broker"]["ok"] and body["broker"]["transport"] == "filesystem"
    assert body["cache"]["ok"] and body["worker"]["ok"]

    # A task round-trips through the running worker and the file result backend.
    pong = _manage(
        embedded_env,
        "shell",
        "-c",
        "from helpdesk.tasks import ping; print(ping.delay().get(timeout=60))",
        timeout=120,
    )
    assert pong.strip().splitlines()[-1] == "pong"

    # A chat reply an agent sends is delivered by the worker, another process: it reaches
    # the visitor's socket on the web server through the layer relay.
    assert _chat_reply_reaches_the_visitor(served, embedded_env) == "Hi from the desk"

    # The start page answers a visitor; a signed-in agent goes on to a working queue.
    with urllib.request.urlopen(f"{served['url']}/", timeout=10) as start:  # noqa: S310
        assert start.status == 200 and "Contact us" in start.read().decode()
    assert _agent_pages(served["url"], "boss", "admin-pw") == {
        "/": (200, "/agent/"),
        "/agent/": (200, "/agent/"),
        "/agent/?view=unassigned&sort=sla": (200, "/agent/?view=unassigned&sort=sla"),
        "/agent/counts/": (200, "/agent/counts/"),
    }

    # A customer writes in; the worker prints the acknowledgement as one line whose magic
    # link is on the port served here, not the default :8000.
    landed, _ = _post_form(
        _opener(),
        f"{served['url']}/support/new/",
        {"name": "Dana", "email": "dana@example.com", "subject": "Parcel", "description": "Lost"},
    )
    assert landed.endswith("/support/thanks/"), landed
    line = _wait_for_log(served, r"(?m)^.*Mail to dana@example\.com: .*$")
    assert line.startswith("Mail to dana@example.com: "), line  # no logger prefix
    assert f"→  {served['url']}/portal/login/" in line, line

    # A sender rotating X-Forwarded-For is still one client (uvicorn believes no such
    # header, no proxy is trusted): the per-IP limit of 2 holds.
    outcomes = [
        _post_form(
            _opener(),
            f"{served['url']}/support/new/",
            {"name": "Eve", "email": f"eve{n}@example.com", "subject": "Hello", "description": "x"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )[0]
        for n in range(2)
    ]
    assert outcomes[0].endswith("/support/thanks/") and outcomes[1] == "HTTP 429", outcomes

    # The admin logs in through the ASGI server.
    page = _admin_login(served["url"], "boss", "admin-pw")
    assert "Site administration" in page
    refused = _admin_login(served["url"], "boss", "wrong")
    assert "Site administration" not in refused

    served["children"] += _children(served["proc"].pid)
    assert len(served["children"]) == 3, _log(served)  # web, worker, beat

    os.killpg(served["proc"].pid, signal.SIGINT)  # Ctrl-C
    assert served["proc"].wait(timeout=60) == 0, _log(served)

    assert [pid for pid in served["children"] if _alive(pid)] == []
    output = _log(served)
    assert "database is locked" not in output
    assert "Stopped." in output


def test_it_refuses_a_busy_port_before_starting_anything(embedded_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "manage.py", "serve_all", "--port", str(port)],
            cwd=ROOT,
            env=embedded_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert done.returncode != 0
    assert f"Cannot serve on 127.0.0.1:{port}" in done.stderr
    assert "make run PORT=" in done.stderr
    assert "celery" not in done.stdout + done.stderr  # nothing was started


def _child_running(parent: int, word: str) -> int | None:
    for pid in _children(parent):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if word.encode() in argv and _alive(pid):
            return pid
    return None


def test_it_restarts_a_killed_worker_and_its_queue_drains(served, embedded_env):
    _wait_healthy(served)
    parent = served["proc"].pid
    worker = _child_running(parent, "worker")
    assert worker is not None, _log(served)

    os.killpg(worker, signal.SIGKILL)  # the OOM killer, say
    _wait_for_log(served, r"worker exited with -9; restarting it in 1 s\.")
    _wait_for_log(served, r"Restarting worker\.")

    # A task queued now is run by the new worker; the web server kept serving.
    pong = _manage(
        embedded_env,
        "shell",
        "-c",
        "from helpdesk.tasks import ping; print(ping.delay().get(timeout=90))",
        timeout=150,
    )
    assert pong.strip().splitlines()[-1] == "pong"
    assert served["proc"].poll() is None
    assert _child_running(parent, "worker") not in (None, worker)
    assert _health(served["url"])[0] in (200, 503)  # answering (the heartbeat may lag)
