"""With the cache (Redis) unreachable, the helpers built on it degrade instead of failing:
presence fails open, rate limits count per process, and the pages that use them render."""

import logging
import socket
import time
import uuid

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from helpdesk.lib import ratelimit
from tests.factories import AgentFactory, TicketFactory
from tickets.workspace import presence

DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: refused at once
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}


@pytest.fixture
def cache_down(settings):
    with override_settings(CACHES=DEAD_CACHE):
        caches["default"].close()
        yield
    caches["default"].close()


@pytest.fixture(autouse=True)
def _fresh_local_counts(monkeypatch):
    monkeypatch.setattr(ratelimit, "_local_counts", {})
    monkeypatch.setattr(ratelimit, "_last_warning", 0.0)


def test_it_shows_nobody_present_and_logs_when_the_cache_is_down(cache_down, caplog):
    with caplog.at_level(logging.WARNING, logger="tickets.workspace.presence"):
        assert presence.presence_list(ticket_id=1) == []
        assert presence.presence_set(ticket_id=1, user_id=2, name="Alex", state="viewing") == []
        assert presence.presence_clear(ticket_id=1, user_id=2) == []

    assert "presence unavailable for ticket 1" in caplog.text


def test_it_still_refuses_an_unknown_presence_state_with_the_cache_down(cache_down):
    with pytest.raises(ValueError):
        presence.presence_set(ticket_id=1, user_id=2, name="Alex", state="typing")


def test_it_counts_rate_limits_in_the_process_while_the_cache_is_down(cache_down, caplog):
    key = f"{uuid.uuid4().hex}@example.com"
    with caplog.at_level(logging.WARNING, logger="helpdesk.lib.ratelimit"):
        hits = [
            ratelimit.rate_limit_hit(scope="test", key=key, limit=3, window=3600) for _ in range(4)
        ]

    assert [h.allowed for h in hits] == [True, True, True, False]
    assert 0 < hits[-1].retry_after <= 3601
    # One warning per minute, not one per request.
    assert caplog.text.count("rate limits counted per process") == 1


def test_it_keeps_the_local_counts_bounded(cache_down, monkeypatch):
    monkeypatch.setattr(ratelimit, "_LOCAL_MAX_KEYS", 5)

    for i in range(12):
        ratelimit.rate_limit_hit(scope="test", key=f"k{i}", limit=3, window=3600)

    assert len(ratelimit._local_counts) <= 5


def test_it_uses_the_shared_counter_again_once_the_cache_answers(settings):
    key = f"{uuid.uuid4().hex}@example.com"

    first = ratelimit.rate_limit_hit(scope="test", key=key, limit=1, window=3600)
    second = ratelimit.rate_limit_hit(scope="test", key=key, limit=1, window=3600)

    assert (first.allowed, second.allowed) == (True, False)
    assert ratelimit._local_counts == {}


@pytest.mark.django_db
def test_it_renders_the_agent_ticket_page_with_the_cache_down(cache_down):
    ticket = TicketFactory()
    client = Client()
    client.force_login(AgentFactory())

    response = client.get(f"/agent/tickets/{ticket.number}/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_it_answers_healthz_at_once_naming_cache_and_broker_when_redis_is_down(
    cache_down, monkeypatch
):
    from kombu import Connection

    from helpdesk.celery import app as celery_app

    monkeypatch.setattr(
        celery_app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0")
    )
    started = time.monotonic()

    response = Client().get("/healthz")

    assert time.monotonic() - started < 2  # one attempt each, no retry pause
    body = response.json()
    assert response.status_code == 503
    assert {"cache", "broker"} <= set(body["failing"]) and body["database"]["ok"]


@pytest.mark.django_db
def test_it_answers_healthz_within_one_socket_timeout_when_redis_hangs(monkeypatch):
    from kombu import Connection

    from helpdesk.celery import app as celery_app

    hung = socket.socket()  # accepts connections (the backlog) and never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
    options = {"socket_connect_timeout": 2, "socket_timeout": 5}
    monkeypatch.setattr(
        celery_app, "connection_for_write", lambda: Connection(url, transport_options=options)
    )
    hanging = {"default": {**DEAD_CACHE["default"], "LOCATION": url}}
    try:
        with override_settings(CACHES=hanging):
            caches["default"].close()
            started = time.monotonic()
            response = Client().get("/healthz")
            took = time.monotonic() - started
    finally:
        hung.close()
        caches["default"].close()

    assert response.status_code == 503
    assert set(response.json()["failing"]) == {"cache", "broker", "worker"}
    assert took < 7.5  # the checks overlap: one 5 s timeout, not 2 + 5 + 2


def test_the_api_keeps_answering_with_the_cache_down(cache_down, caplog, db):
    from rest_framework.test import APIClient

    from tickets.integrations.tokens import api_token_create

    agent = AgentFactory()
    TicketFactory(subject="Still here")
    client = APIClient()
    secret = api_token_create(owner=agent, name="ci", scopes=["tickets:read"]).secret
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    with caplog.at_level(logging.WARNING, logger="helpdesk.lib.ratelimit"):
        response = client.get("/api/v1/tickets/")

    assert response.status_code == 200
    assert [t["subject"] for t in response.json()["results"]] == ["Still here"]
    assert response["RateLimit-Limit"] and response["RateLimit-Remaining"]
    assert "rate limits counted per process" in caplog.text
