from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from helpdesk import heartbeat
from tests.agent.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    _end_stray_connections,
    live_url,
    smtp_sink,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def no_heartbeat() -> Iterator[None]:
    """No worker has beaten yet (and none beats while the test runs)."""
    heartbeat.stop_thread()
    cache.delete(heartbeat.KEY)
    yield
    heartbeat.stop_thread()
    cache.delete(heartbeat.KEY)


@pytest.fixture
def ingest(make_inbound: Any) -> Any:
    from channels_app.ingest import inbound_message_ingest

    def run(**fields: Any) -> Any:
        return inbound_message_ingest(message=make_inbound(**fields))

    return run
