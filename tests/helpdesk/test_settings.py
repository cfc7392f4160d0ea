"""Settings as production and the embedded default see them: each run in a fresh process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

ROOT = Path(django_settings.BASE_DIR)
DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production"


def _run(args, tmp_path, **env):
    base = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    base.update(HELPDESK_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="helpdesk.settings")
    base.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def production_env():
    return {
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "desk.example.com",
        "PUBLIC_BASE_URL": "https://desk.example.com",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
    }


def test_it_passes_the_deploy_check_with_no_warnings_in_production(tmp_path, production_env):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production_env
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("secret", [DEV_SECRET, ""])
def test_it_refuses_to_start_without_a_real_secret_key_when_debug_is_off(
    tmp_path, production_env, secret
):
    production_env["SECRET_KEY"] = secret

    result = _run(["manage.py", "check"], tmp_path, **production_env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set to a long random value when DEBUG is off" in result.stderr


def test_it_runs_on_the_embedded_default_with_nothing_set(tmp_path):
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.CACHES['default']['BACKEND'], s.CHANNEL_LAYERS['default']['BACKEND'], s.DEBUG]))"
    )

    result = _run(["-c", script], tmp_path)

    assert result.returncode == 0, result.stderr
    engine, broker, cache, layer, debug = json.loads(result.stdout.strip().splitlines()[-1])
    assert engine == "django.db.backends.sqlite3"
    assert broker.startswith("filesystem://")
    assert cache.endswith("FileBasedCache") and layer.endswith("InMemoryChannelLayer")
    assert debug is True


def test_it_runs_on_postgres_and_redis_when_their_urls_are_set():
    assert django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert os.environ["REDIS_URL"] == django_settings.CELERY_BROKER_URL
    assert django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert (
        django_settings.CELERY_TASK_ACKS_LATE and django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    )
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == 3600


def test_it_keeps_no_persistent_database_connections_by_default():
    # Under ASGI each request's thread would keep its own connection open.
    assert django_settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert django_settings.DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] is False
