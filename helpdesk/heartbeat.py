"""The worker heartbeat /healthz reads: a timestamp the worker refreshes while it lives."""

import logging
import threading
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY = "helpdesk:worker:heartbeat"
INTERVAL = 15


def beat_once() -> None:
    cache.set(KEY, time.time(), timeout=3600)


def last_beat() -> float | None:
    value = cache.get(KEY)
    return float(value) if value is not None else None


def start_thread() -> None:
    def loop() -> None:
        while True:
            try:
                beat_once()
            except Exception:  # cache down: /healthz reports the stale beat; keep trying
                logger.warning("could not write the worker heartbeat", exc_info=True)
            time.sleep(INTERVAL)

    threading.Thread(target=loop, name="helpdesk-heartbeat", daemon=True).start()
