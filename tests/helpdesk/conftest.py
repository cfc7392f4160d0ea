from collections.abc import Iterator

import pytest
from django.core.cache import cache

from helpdesk import heartbeat


@pytest.fixture
def no_heartbeat() -> Iterator[None]:
    """No worker has beaten yet (and none beats while the test runs)."""
    heartbeat.stop_thread()
    cache.delete(heartbeat.KEY)
    yield
    heartbeat.stop_thread()
    cache.delete(heartbeat.KEY)
