"""A cache lock for periodic work, so a second beat (or overlapping ticks) does no double
work. The work itself stays idempotent; this only saves the duplicate effort."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache


@contextmanager
def single_run(name: str, *, ttl: int) -> Iterator[bool]:
    key = f"helpdesk:lock:{name}"
    token = uuid.uuid4().hex
    acquired = bool(cache.add(key, token, timeout=ttl))
    try:
        yield acquired
    finally:
        # Release only our own lock: if we overran the ttl another run may hold it now.
        if acquired and cache.get(key) == token:
            cache.delete(key)
