"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

There is no `docker compose config` here, so the file is read as YAML (with its anchors
and merge keys resolved) and held to what production needs and to what `make run` does.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = {"postgres", "pgbouncer", "redis", "web", "worker", "beat"}
APP_SERVICES = {"migrate", "web", "worker", "beat"}
# The settings DESIGN.md fixes, which `make run` reads too.
REQUIRED_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "PUBLIC_BASE_URL",
    "EMAIL_URL",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_env_names() -> set[str]:
    """Every environment variable helpdesk/settings.py reads (env.str("NAME"), ...)."""
    source = (ROOT / "helpdesk" / "settings.py").read_text()
    names = set(
        re.findall(r"\.(?:str|bool|int|list|db|email_url|url|float)\(\s*\"([A-Z_]+)\"", source)
    )
    assert "DATABASE_URL" in names  # the pattern still matches how settings are read
    return names


def command_of(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_it_runs_the_five_services_and_a_migrate_step(compose):
    assert set(compose["services"]) == LONG_RUNNING | {"migrate"}
    for name in ("web", "worker", "beat"):
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["pgbouncer"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert "manage.py migrate" in command_of(compose["services"]["migrate"])


def test_it_pools_app_connections_through_pgbouncer_in_transaction_mode(compose):
    bouncer = compose["services"]["pgbouncer"]["environment"]
    assert bouncer["POOL_MODE"] == "transaction"
    assert int(bouncer["DEFAULT_POOL_SIZE"]) < 100  # below PostgreSQL's max_connections
    for name in ("web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert "@pgbouncer:5432/" in env["DATABASE_URL"]
        assert env["DATABASE_DISABLE_SERVER_SIDE_CURSORS"] == "true"
    assert "@postgres:5432/" in compose["services"]["migrate"]["environment"]["DATABASE_URL"]
    for name in LONG_RUNNING:
        assert compose["services"][name]["restart"] == "unless-stopped"


def test_it_has_a_healthcheck_on_every_long_running_service(compose):
    for name in LONG_RUNNING:
        check = compose["services"][name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
    web_check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "/healthz" in web_check


def test_it_runs_exactly_one_beat_on_the_database_scheduler(compose):
    beats = [
        name
        for name, service in compose["services"].items()
        if re.search(r"\bcelery\b.*\bbeat\b", command_of(service))
    ]
    assert beats == ["beat"]
    beat = compose["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "django_celery_beat.schedulers:DatabaseScheduler" in command_of(beat)
    # Only beat: a worker started with -B would be a second one.
    assert not any(
        re.search(r"(\s-B\b|--beat\b)", command_of(compose["services"][name]))
        for name in ("web", "worker")
    )


def test_it_serves_the_asgi_app_and_runs_the_worker_like_make_run(compose):
    serve_all = (ROOT / "helpdesk" / "management" / "commands" / "serve_all.py").read_text()
    assert "uvicorn" in serve_all and "helpdesk.asgi:application" in serve_all
    assert "uvicorn helpdesk.asgi:application" in command_of(compose["services"]["web"])
    assert "celery -A helpdesk worker" in command_of(compose["services"]["worker"])
    assert '"-A", "helpdesk", "worker"' in serve_all


def test_it_sets_only_environment_variables_the_settings_read(compose):
    known = settings_env_names()
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert set(env) >= REQUIRED_ENV, f"{name} lacks {REQUIRED_ENV - set(env)}"
        assert set(env) <= known, f"{name} sets unknown {set(env) - known}"
        assert env["DEBUG"] == "false"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_it_keeps_media_on_a_volume_the_web_and_worker_share(compose):
    assert "media" in compose["volumes"]
    for name in ("web", "worker"):
        mounts = [str(volume).split(":")[0:2] for volume in compose["services"][name]["volumes"]]
        assert ["media", "/app/var/media"] in mounts
        assert compose["services"][name]["environment"]["MEDIA_ROOT"] == "/app/var/media"


def test_it_builds_a_slim_image_that_collects_static_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert "collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "helpdesk.asgi:application" in dockerfile
