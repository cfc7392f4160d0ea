"""Change events for live agent pages: group names and payloads, published after commit.

Pushes are hints, not the record: a page that missed one resyncs from the database, so a
failed publish is logged and never fails the write that caused it.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def team_queue_group(team_id: int | None) -> str:
    return f"queue.team.{team_id}" if team_id else "queue.noteam"


def agent_queue_group(user_id: int) -> str:
    return f"queue.agent.{user_id}"


def _send(groups: list[str], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, {"type": "helpdesk.event", "payload": payload})
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
