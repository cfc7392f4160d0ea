"""Change events for live agent pages: group names and payloads, published after commit.

Pushes are hints, not the record: a page that missed one resyncs from the database, so a
failed publish is logged and never fails the write that caused it.
"""

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 2.0


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def team_queue_group(team_id: int | None) -> str:
    return f"queue.team.{team_id}" if team_id else "queue.noteam"


def agent_queue_group(user_id: int) -> str:
    return f"queue.agent.{user_id}"


async def _send_all(layer: Any, groups: list[str], payload: dict[str, Any]) -> None:
    message = {"type": "helpdesk.event", "payload": payload}
    await asyncio.gather(*(layer.group_send(group, message) for group in groups))


class _PublisherLoop:
    """One long-lived event loop per process for a network channel layer.

    async_to_sync would start a fresh loop per call, and channels-redis keeps its
    connections per loop, so every publish would reconnect to Redis. A dedicated loop
    keeps one pool. (The in-memory layer must run on the server's own loop, so it keeps
    async_to_sync, which finds that loop.)
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="helpdesk-publisher", daemon=True
                )
                thread.start()
                self._loop = loop
            return self._loop

    def run(self, layer: Any, groups: list[str], payload: dict[str, Any]) -> None:
        future: Future[None] = asyncio.run_coroutine_threadsafe(
            _send_all(layer, groups, payload), self._ensure()
        )
        future.result(timeout=PUBLISH_TIMEOUT)


_publisher = _PublisherLoop()


def _send(groups: list[str], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if layer.__class__.__module__.startswith("channels.layers"):
            async_to_sync(_send_all)(layer, groups, payload)
        else:
            _publisher.run(layer, groups, payload)
    except Exception:  # a lost hint is recovered by resync; never fail the caller
        logger.warning("could not publish %s to %s", payload.get("kind"), groups, exc_info=True)


def publish_ticket_changed(
    *, ticket_id: int, team_id: int | None, assignee_id: int | None, kind: str
) -> None:
    """Publish after the current transaction commits (immediately outside one)."""
    groups = [ticket_group(ticket_id), team_queue_group(team_id)]
    if assignee_id:
        groups.append(agent_queue_group(assignee_id))
    payload = {"kind": kind, "ticket_id": ticket_id}
    transaction.on_commit(lambda: _send(groups, payload))
