import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from helpdesk import heartbeat

pytestmark = pytest.mark.django_db


def test_it_reports_all_four_ok_with_a_fresh_heartbeat(client, no_heartbeat):
    heartbeat.beat_once()

    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["failing"] == []
    assert {k: body[k]["ok"] for k in ("database", "cache", "broker", "worker")} == {
        "database": True,
        "cache": True,
        "broker": True,
        "worker": True,
    }
    assert body["database"]["vendor"] == "postgresql"
    assert body["broker"]["transport"] == "redis"
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_answers_503_naming_the_worker_when_no_heartbeat_came(client, no_heartbeat):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail" and body["failing"] == ["worker"]
    assert "no worker has reported yet" in body["worker"]["error"]
    assert body["database"]["ok"] and body["cache"]["ok"] and body["broker"]["ok"]


def test_it_answers_503_when_the_heartbeat_is_stale(client, no_heartbeat, settings):
    cache.set(heartbeat.KEY, time.time() - settings.HELPDESK_WORKER_HEARTBEAT_MAX_AGE - 30)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert "s old" in response.json()["worker"]["error"]


def test_it_names_a_broken_cache(client, no_heartbeat):
    heartbeat.beat_once()
    broken = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    with override_settings(CACHES=broken):
        response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert "cache" in body["failing"] and "Connection refused" in body["cache"]["error"]


def test_it_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


def test_it_names_an_unreachable_broker(client, no_heartbeat, monkeypatch):
    from kombu import Connection

    from helpdesk.celery import app as celery_app

    heartbeat.beat_once()
    monkeypatch.setattr(
        celery_app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0")
    )

    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["broker"] and body["broker"]["error"]
