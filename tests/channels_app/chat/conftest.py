"""Fixtures for live chat: a chat channel, and presence counts cleared around each test."""

from collections.abc import Iterator

import pytest

from channels_app.models import ChatChannel
from tests.factories import TeamFactory


@pytest.fixture
def chat_channel(db: None) -> ChatChannel:
    return ChatChannel.objects.create(
        name="Website",
        allowed_domains="shop.example.com\n*.example.org\n127.0.0.1:8123",
        team=TeamFactory(),
    )


@pytest.fixture(autouse=True)
def _clean_presence() -> Iterator[None]:
    # Agent and visitor presence counts live in the (shared) Redis cache: drop only those
    # keys, so other tests' channel-layer groups and caches are left alone.
    from django.conf import settings
    from django.core.cache import cache

    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        yield  # the embedded default's file cache is cleared whole for every test
        return

    def drop() -> None:
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match="*presence:*"))
        if keys:
            client.delete(*keys)

    drop()
    yield
    drop()


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_connections_in_worker_threads() -> None:
    # Consumers reach the database from sync_to_async threads; with persistent
    # connections those outlive the tests and block dropping the test database.
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0
