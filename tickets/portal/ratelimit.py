"""Fixed-window rate limits in the shared cache (Redis in production).

The window number is part of the key, so a counter needs no TTL read-back: the time left
is what remains of the current window.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from helpdesk.lib.net import client_ip as net_client_ip


@dataclass(frozen=True)
class RateLimit:
    allowed: bool
    retry_after: int  # seconds until the window resets

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def rate_limit_hit(*, scope: str, key: str, limit: int, window: int) -> RateLimit:
    """Count one attempt for (scope, key); allowed while the window's count <= limit."""
    now = time.time()
    bucket = int(now // window)
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    cache_key = f"helpdesk:rl:{scope}:{digest}:{bucket}"
    # add() creates the counter with a TTL only if absent; incr() is atomic in Redis.
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window + 5)
        count = 1
    retry_after = int(window - (now % window)) + 1
    return RateLimit(allowed=count <= limit, retry_after=retry_after)


def client_ip(meta: dict[str, str]) -> str:
    # X-Forwarded-For only from our own proxies: a limit keyed on a header the client
    # writes limits nobody (helpdesk/lib/net.py).
    return net_client_ip(meta)
