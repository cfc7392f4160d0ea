"""Configuration copies when the shared cache fails or misses a change."""

import logging
from typing import Any

import pytest

from helpdesk.lib import config_cache
from helpdesk.lib.config_cache import ConfigCache


class DownCache:
    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


@pytest.fixture
def counted() -> Any:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    copy = ConfigCache("test-counted", load)
    yield copy, loads
    config_cache._ALL.remove(copy)


def test_it_reads_the_database_on_every_get_while_the_cache_is_down(counted, monkeypatch, caplog):
    copy, _ = counted
    monkeypatch.setattr(config_cache, "cache", DownCache())
    monkeypatch.setattr(config_cache, "_last_warning", 0.0)

    with caplog.at_level(logging.WARNING, logger="helpdesk.lib.config_cache"):
        assert [copy.get(), copy.get()] == [1, 2]  # never cached: nothing says it is current
        copy.invalidate()  # a change during the outage does not raise either

    assert caplog.messages == [
        "Configuration cache unavailable, reading the database: "
        "Error 111 connecting to 127.0.0.1:6379. Connection refused."
    ]


def test_it_reloads_a_copy_older_than_the_max_age_though_the_token_is_unchanged(
    counted, monkeypatch
):
    copy, _ = counted
    clock = [1000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: clock[0])

    assert copy.get() == 1
    clock[0] += config_cache.COPY_MAX_AGE - 1
    assert copy.get() == 1
    clock[0] += 2

    assert copy.get() == 2
