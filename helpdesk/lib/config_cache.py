"""Per-process copies of rarely changing configuration (SLA policies, mailboxes).

Each copy is tagged with the version token kept in the shared Django cache (Redis, or
the file cache of the embedded default; one token for all copies). Every read compares
the token, one cache GET, far cheaper than the queries it replaces; a change to a watched
model (admin edit, delete) sets a new token, so every process reloads on its next read:
edits take effect at once everywhere. Inside `config_snapshot()` (one unit of work, such
as ingesting one message, or one IMAP batch across its lanes) the token is read once for
all copies: the work sees the configuration as it was when it started.

A change inside a transaction sets a new token at once and again when the transaction
commits (another process may have reloaded the old rows in between). Until that
transaction has ended, its thread reads the rows fresh from the database (it must see
its own change, and must not cache what might still roll back); other threads keep
using the committed rows.

Writes that send no model signals (QuerySet.update, bulk_create, raw SQL) must call
`invalidate()` themselves.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

VERSION_KEY = "helpdesk:config-version"
# A copy is reloaded after this long even when the token says it is current: a change
# made while the cache was down set no new token.
COPY_MAX_AGE = 60.0
logger = logging.getLogger(__name__)
_ALL: list["ConfigCache[Any]"] = []
_local = threading.local()  # .snapshot: the version read in this thread's snapshot


@contextmanager
def config_snapshot(shared: dict[str, str | None] | None = None) -> Iterator[None]:
    """Read the configuration version at most once inside this block (nested: the
    outermost block counts). A change made inside the block is still seen at once.

    `shared` (from config_snapshot_current() on another thread) joins that thread's
    snapshot: a batch split across threads reads the version once for all of them."""
    if getattr(_local, "snapshot", None) is not None:
        yield
        return
    _local.snapshot = shared if shared is not None else {}
    try:
        yield
    finally:
        _local.snapshot = None


def config_snapshot_current() -> dict[str, str | None] | None:
    """This thread's open snapshot, to share with helper threads (None outside one)."""
    return getattr(_local, "snapshot", None)


def _version() -> str | None:
    """The shared version token; None when the cache cannot say (then every read goes to
    the database: storing a customer's mail must not need Redis)."""
    snapshot: dict[str, str | None] | None = getattr(_local, "snapshot", None)
    if snapshot is not None and "version" in snapshot:
        return snapshot["version"]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # Unknown (first use, evicted, cache cleared): start a new one. add() keeps a
            # token another process set in the meantime.
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception as exc:  # any cache client error: the database still answers
        _cache_down(exc)
        version = None
    if snapshot is not None:
        snapshot["version"] = version
    return None if version is None else str(version)


def _new_version() -> None:
    snapshot = getattr(_local, "snapshot", None)
    if snapshot is not None:
        snapshot.pop("version", None)
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        # Other processes keep their copies until COPY_MAX_AGE: the change reaches them
        # late, not never.
        _cache_down(exc)


_last_warning = 0.0


def _cache_down(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:  # once a minute, not once per message
        _last_warning = now
        logger.warning("Configuration cache unavailable, reading the database: %s", exc)


class ConfigCache(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self.name = name
        self._load = load
        self._lock = threading.Lock()
        self._copy: tuple[str, T, float] | None = None  # (version, value, loaded at)
        # .changed: set while this thread's transaction (Django connections are per
        # thread) that changed the configuration is open.
        self._thread = threading.local()
        _ALL.append(self)

    def get(self) -> T:
        if getattr(self._thread, "changed", False):
            if transaction.get_connection().in_atomic_block:
                return self._load()  # maybe uncommitted: never cached
            self._thread.changed = False  # committed (token set again) or rolled back
            self._copy = None
        version = _version()
        copy = self._copy
        now = time.monotonic()
        if (
            copy is not None
            and version is not None
            and copy[0] == version
            and now - copy[2] < COPY_MAX_AGE
        ):
            return copy[1]
        value = self._load()
        if version is not None:
            with self._lock:
                self._copy = (version, value, now)
        return value

    def invalidate(self) -> None:
        """The configuration changed: every process reloads on its next read."""
        self._copy = None
        _new_version()
        if transaction.get_connection().in_atomic_block:
            self._thread.changed = True
            transaction.on_commit(self._committed)

    def _committed(self) -> None:
        self._copy = None
        _new_version()

    def forget(self) -> None:
        """Drop this process's copy (tests: the database was reset behind its back)."""
        self._copy = None
        self._thread.changed = False

    def watch(self, senders: Iterable[type[models.Model]]) -> None:
        """Invalidate on every save or delete of these models."""

        def changed(**_: Any) -> None:
            self.invalidate()

        self._receiver = changed  # signals hold receivers weakly
        for sender in senders:
            for signal in (post_save, post_delete):
                signal.connect(
                    changed, sender=sender, dispatch_uid=f"{self.name}:{sender.__name__}"
                )


def config_caches_forget() -> None:
    """Drop every per-process copy (tests reset the database without signals)."""
    _local.snapshot = None
    for config_cache in _ALL:
        config_cache.forget()
