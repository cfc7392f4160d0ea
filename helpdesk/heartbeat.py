"""The worker heartbeat /healthz reads: a timestamp the worker refreshes while it lives."""

import logging
import threading
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY = "helpdesk:worker:heartbeat"
INTERVAL = 15

_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


def beat_once() -> None:
    cache.set(KEY, time.time(), timeout=3600)


def last_beat() -> float | None:
    value = cache.get(KEY)
    return float(value) if value is not None else None


def _loop(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            beat_once()
        except Exception:  # cache down: /healthz reports the stale beat; keep trying
            logger.warning("could not write the worker heartbeat", exc_info=True)
        stop.wait(INTERVAL)


def start_thread() -> threading.Thread:
    """Start the heartbeat thread once per process (a second call returns the first)."""
    global _thread, _stop
    with _lock:
        if _thread is not None and _thread.is_alive():
            return _thread
        _stop = threading.Event()
        _thread = threading.Thread(
            target=_loop, args=(_stop,), name="helpdesk-heartbeat", daemon=True
        )
        _thread.start()
        return _thread


def stop_thread(timeout: float = 5.0) -> None:
    """Stop beating (worker shutdown), so a stopped worker reads as stopped."""
    global _thread
    with _lock:
        thread, _thread = _thread, None
        _stop.set()
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
