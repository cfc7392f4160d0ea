"""Ingest a batch of payloads on a few threads without reordering any conversation.

A batch (one IMAP fetch) is split into lanes: payloads that share a key (a Message-ID one
of them names, a sender address, a ticket reference) always share a lane, and a lane
runs its payloads one after the other in the order they came. Two lanes have nothing in
common, so they may run at the same time: while one thread waits for PostgreSQL, another
parses and builds its next statements. Each payload still commits on its own, exactly
as it would alone.

Threads only help on PostgreSQL (SQLite serializes writers) and only outside a caller's
transaction (a thread has its own connection, which cannot see uncommitted rows);
`lanes_run` runs everything on the calling thread otherwise.
"""

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import close_old_connections, connection, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class LaneOutcome(Generic[T]):
    """What became of one item: its value, the error it raised, or neither (skipped,
    because an earlier item of its lane failed: it must not overtake that one)."""

    value: T | None = None
    error: Exception | None = None
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        return self.value is None and self.error is None


def lanes_plan(keys: Sequence[Iterable[str]], lanes: int) -> list[list[int]]:
    """Group item indices into at most `lanes` lanes. Items linked by a shared key,
    directly or through others, land in one lane, in their original order."""
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, item_keys in enumerate(keys):
        for key in item_keys:
            if key in owner:
                a, b = root(owner[key]), root(index)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[key] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(keys)):
        groups.setdefault(root(index), []).append(index)
    planned: list[list[int]] = [[] for _ in range(max(1, lanes))]
    # Largest group first, each to the lane with the fewest items so far.
    for group in sorted(groups.values(), key=len, reverse=True):
        min(planned, key=len).extend(group)
    return [sorted(lane) for lane in planned if lane]


class _Pool:
    """The process's lane threads, started on first use (a forked child starts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._size = 0
        self._pid = 0

    def get(self, size: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is not None and self._pid == os.getpid() and self._size >= size:
                return self._executor
        self.shutdown()  # a larger pool is wanted: the old threads close their connections
        with self._lock:
            if self._executor is None or self._pid != os.getpid() or self._size < size:
                self._executor = ThreadPoolExecutor(size, thread_name_prefix="helpdesk-lane")
                self._size, self._pid = size, os.getpid()
            return self._executor

    def shutdown(self) -> None:
        with self._lock:
            executor, size = self._executor, self._size
            if executor is None or self._pid != os.getpid():
                self._executor = None
                return
            self._executor = None
        # One task per thread (the barrier holds each until all have one): every lane
        # thread closes its own connection, then the threads end.
        barrier = threading.Barrier(size)

        def close_own() -> None:
            connections.close_all()
            barrier.wait(timeout=10)

        for _ in range(size):
            executor.submit(close_own)
        executor.shutdown(wait=True)


_pool = _Pool()


def lanes_shutdown() -> None:
    """Stop the lane threads and close their database connections (tests; a worker's
    exit). The next batch starts new ones."""
    _pool.shutdown()


def lanes_run(
    *,
    keys: Sequence[Iterable[str]],
    work: Callable[[int], T],
    threads: int,
) -> list[LaneOutcome[T]]:
    """Run work(index) for every item, lanes in parallel on up to `threads` threads (the
    caller's thread takes one lane). An error ends its lane: the lane's later items are
    skipped, so they are retried after it rather than overtaking it."""
    outcomes: list[LaneOutcome[T]] = [LaneOutcome() for _ in keys]
    if threads > 1 and (connection.vendor != "postgresql" or connection.in_atomic_block):
        threads = 1
    lanes = lanes_plan(keys, threads)

    def run_lane(lane: list[int], own_connection: bool) -> None:
        for position, index in enumerate(lane):
            started = time.perf_counter()
            try:
                if own_connection and position == 0:
                    # This thread's connection: reopened when past its age or broken.
                    close_old_connections()
                outcomes[index].value = work(index)
            except Exception as exc:
                outcomes[index].error = exc
                return
            finally:
                outcomes[index].seconds = time.perf_counter() - started

    if len(lanes) <= 1:
        for lane in lanes:
            run_lane(lane, own_connection=False)
        return outcomes
    executor = _pool.get(len(lanes) - 1)
    futures: list[Future[None]] = [executor.submit(run_lane, lane, True) for lane in lanes[1:]]
    try:
        run_lane(lanes[0], own_connection=False)
    finally:
        for future in futures:
            future.result()  # run_lane keeps its errors in the outcomes
    return outcomes
