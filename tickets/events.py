"""Change hints for live agent pages: group names, and the one way hints are sent.

Pushes are hints, not the record: a page that missed one resyncs from the database, so a
failed publish is logged and never fails the write that caused it. With Redis they are
sent by a background thread in publish order; the caller never waits for them.

What a ticket's change tells which groups is the agent workspace's affair
(tickets.workspace.live, a subscriber of the domain events); the delivery badges and the
waiting-chats counter are told by the channels here, after their own commits.
"""

import asyncio
import atexit
import logging
import os
import threading
from collections import deque
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 2.0
MAX_PENDING = 10_000


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def team_queue_group(team_id: int | None) -> str:
    return f"queue.team.{team_id}" if team_id else "queue.noteam"


def agent_queue_group(user_id: int) -> str:
    return f"queue.agent.{user_id}"


# Every agent socket joins it: the workspace header counts the chats waiting for a reply.
CHATS_WAITING_GROUP = "chats.waiting"


async def _send_all(layer: Any, groups: list[str], payload: dict[str, Any]) -> None:
    message = {"type": "helpdesk.event", "payload": payload}
    await asyncio.gather(*(layer.group_send(group, message) for group in groups))


class _Publisher:
    """Publishes for a network channel layer from one background thread, in order.

    publish() only queues the event and returns: the write that caused it (an ingest, an
    agent's reply) never waits for Redis. One thread per process sends the queued events
    one after the other on its own long-lived event loop: channels-redis keeps its
    connections per loop (async_to_sync would start a fresh loop, and reconnect, per
    call), and a single sender keeps every group's events in the order they were
    published. (The in-memory layer must run on the server's own loop, so it keeps
    async_to_sync, which finds that loop.)

    Pending events are bounded (MAX_PENDING; past that they are dropped with a warning:
    pages resync) and flushed at interpreter exit, so a short-lived process such as the
    MTA pipe command still delivers its events. A forked child (Celery prefork) starts
    its own thread and does not inherit its parent's queue.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._pending: deque[tuple[Any, list[str], dict[str, Any]]] = deque()
        self._sending = False
        self._pid = 0

    def publish(self, layer: Any, groups: list[str], payload: dict[str, Any]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            if len(self._pending) >= MAX_PENDING:
                logger.warning("dropped %s for %s: %s events waiting", payload.get("kind"),
                               groups, len(self._pending))  # fmt: skip
                return
            self._pending.append((layer, groups, payload))
            self._ready.notify_all()

    def after_fork_in_child(self) -> None:
        # The parent's sender thread does not exist here, and its lock may have been held
        # at the fork: start over (a new thread on the first publish).
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._pending = deque()
        self._sending = False
        self._pid = 0

    def flush(self, timeout: float = PUBLISH_TIMEOUT) -> bool:
        """Wait until every event queued so far has gone out (or failed); False on timeout."""
        with self._lock:
            if self._pid != os.getpid():
                return True
            return self._ready.wait_for(lambda: not self._pending and not self._sending, timeout)

    def _start(self) -> None:
        # Called with the lock held: a fresh process (or a fork's child) gets its own state.
        self._pending = deque()
        self._sending = False
        self._pid = os.getpid()
        thread = threading.Thread(target=self._run, name="helpdesk-publisher", daemon=True)
        thread.start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        pid = os.getpid()
        while True:
            with self._lock:
                self._ready.wait_for(lambda: bool(self._pending) or self._pid != pid)
                if self._pid != pid:
                    return
                layer, groups, payload = self._pending.popleft()
                self._sending = True
            try:
                loop.run_until_complete(
                    asyncio.wait_for(_send_all(layer, groups, payload), PUBLISH_TIMEOUT)
                )
            except Exception:  # a lost hint is recovered by resync; keep sending the rest
                logger.warning(
                    "could not publish %s to %s", payload.get("kind"), groups, exc_info=True
                )
            finally:
                with self._lock:
                    self._sending = False
                    self._ready.notify_all()


_publisher = _Publisher()
atexit.register(_publisher.flush)
os.register_at_fork(after_in_child=_publisher.after_fork_in_child)


def hint_send(groups: list[str], payload: dict[str, Any]) -> None:
    """Send one hint to these groups now: call it after the commit that caused it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # An in-memory layer (process_local) must run on the server's own loop.
        if getattr(layer, "process_local", layer.__class__.__module__.startswith("channels.")):
            async_to_sync(_send_all)(layer, groups, payload)
        else:
            _publisher.publish(layer, groups, payload)
    except Exception:  # a lost hint is recovered by resync; never fail the caller
        logger.warning("could not publish %s to %s", payload.get("kind"), groups, exc_info=True)


def events_flush(timeout: float = PUBLISH_TIMEOUT) -> bool:
    """Wait until the events published so far by this process have been sent."""
    return _publisher.flush(timeout)


def publish_delivery_changed(
    *, ticket_id: int, message_id: int, delivery_id: int, status: str, label: str, detail: str
) -> None:
    """A reply's delivery state changed (sent, delivered, undelivered, failed): the ticket
    page updates that badge in place. The payload names the ticket as "ticket", not
    "ticket_id", because the badge is all that changed: no timeline or header refetch."""
    payload = {
        "kind": "delivery",
        "ticket": ticket_id,
        "message_id": message_id,
        "delivery_id": delivery_id,
        "status": status,
        "label": label,
        "detail": detail,
    }
    transaction.on_commit(lambda: hint_send([ticket_group(ticket_id)], payload))


def publish_chats_waiting_changed(*, arrived: bool) -> None:
    """A chat may have started or stopped waiting for an agent: every workspace header
    refetches its counter (`arrived`: a visitor just wrote, worth a sound)."""
    payload = {"kind": "chats_waiting", "arrived": arrived}
    transaction.on_commit(lambda: hint_send([CHATS_WAITING_GROUP], payload))
