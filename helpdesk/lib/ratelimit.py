"""Fixed-window rate limits in the shared cache (Redis in production).

The window number is part of the key, so a counter needs no TTL read-back: the time left
is what remains of the current window.

With the cache down the counters fall back to this process's memory: each web process
then counts on its own (the limit holds per process, so N processes let through up to N
times the limit) until the cache answers again. A customer is never turned away, nor
shown an error, because Redis is down; abuse stays bounded. The fallback logs a warning
at most once a minute per process.
"""

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache

from helpdesk.lib.net import client_ip as net_client_ip

logger = logging.getLogger(__name__)

_LOCAL_MAX_KEYS = 10_000
_local_counts: dict[str, tuple[int, int]] = {}  # cache key -> (window number, count)
_local_lock = threading.Lock()
_last_warning = 0.0


@dataclass(frozen=True)
class RateLimit:
    allowed: bool
    retry_after: int  # seconds until the window resets
    limit: int = 0
    remaining: int = 0  # attempts left in this window

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def rate_limit_hit(*, scope: str, key: str, limit: int, window: int) -> RateLimit:
    """Count one attempt for (scope, key); allowed while the window's count <= limit."""
    now = time.time()
    bucket = int(now // window)
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    cache_key = f"helpdesk:rl:{scope}:{digest}:{bucket}"
    try:
        count = _shared_hit(cache_key, window)
    except Exception as exc:  # the cache is down or timing out: count in this process
        _warn_fallback(exc)
        count = _local_hit(cache_key, bucket)
    retry_after = int(window - (now % window)) + 1
    return RateLimit(
        allowed=count <= limit,
        retry_after=retry_after,
        limit=limit,
        remaining=max(0, limit - count),
    )


def _shared_hit(cache_key: str, window: int) -> int:
    # add() creates the counter with a TTL only if absent; incr() is atomic in Redis.
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window + 5)
        return 1


def _local_hit(cache_key: str, bucket: int) -> int:
    with _local_lock:
        if len(_local_counts) >= _LOCAL_MAX_KEYS:
            # Past windows first; if every key is current, start over (bounded memory
            # beats an exact count during an outage).
            for old in [k for k, (b, _) in _local_counts.items() if b != bucket]:
                del _local_counts[old]
            if len(_local_counts) >= _LOCAL_MAX_KEYS:
                _local_counts.clear()
        seen_bucket, count = _local_counts.get(cache_key, (bucket, 0))
        count = count + 1 if seen_bucket == bucket else 1
        _local_counts[cache_key] = (bucket, count)
        return count


def _warn_fallback(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= 60:
        _last_warning = now
        logger.warning("rate limits counted per process: the cache is unavailable (%s)", exc)


def client_ip(meta: dict[str, str]) -> str:
    # X-Forwarded-For only from our own proxies: a limit keyed on a header the client
    # writes limits nobody (helpdesk/lib/net.py).
    return net_client_ip(meta)
