"""Who is viewing or replying to a ticket, kept in the cache with an expiry.

One cache entry per ticket holds {user_id: {name, state, until}}. Pages refresh their
entry every PRESENCE_HEARTBEAT seconds; entries whose `until` passed are dropped on read,
so a closed tab or a dead server leaves no ghost beyond PRESENCE_TTL. Two agents
updating at the same instant can lose one update: the next heartbeat restores it, which
is cheaper than a lock for a hint.

Presence is a hint kept only in the cache: with the cache (Redis) down it fails open.
Pages render without it and a heartbeat changes nothing, with a log line; the next
heartbeat once the cache is back restores it.
"""

import logging
import time
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

PRESENCE_TTL = 45
PRESENCE_HEARTBEAT = 15
STATES = ("viewing", "replying")


def _key(ticket_id: int) -> str:
    return f"agent-presence:{ticket_id}"


def _live(entries: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    return {uid: e for uid, e in entries.items() if e.get("until", 0) > now}


def _read(ticket_id: int) -> dict[str, Any] | None:
    """The live entries, or None when the cache cannot be read."""
    try:
        return _live(cache.get(_key(ticket_id)) or {})
    except Exception as exc:  # any cache failure: presence is a hint, never an error
        logger.warning("presence unavailable for ticket %s: %s", ticket_id, exc)
        return None


def _write(ticket_id: int, entries: dict[str, Any]) -> None:
    try:
        if entries:
            cache.set(_key(ticket_id), entries, PRESENCE_TTL)
        else:
            cache.delete(_key(ticket_id))
    except Exception as exc:
        logger.warning("presence not saved for ticket %s: %s", ticket_id, exc)


def presence_set(*, ticket_id: int, user_id: int, name: str, state: str) -> list[dict]:
    if state not in STATES:
        raise ValueError(f"unknown presence state {state!r}")
    entries = _read(ticket_id)
    if entries is None:
        return []
    entries[str(user_id)] = {"name": name, "state": state, "until": time.time() + PRESENCE_TTL}
    _write(ticket_id, entries)
    return presence_list_from(entries)


def presence_clear(*, ticket_id: int, user_id: int) -> list[dict]:
    entries = _read(ticket_id)
    if entries is None:
        return []
    entries.pop(str(user_id), None)
    _write(ticket_id, entries)
    return presence_list_from(entries)


def presence_list(*, ticket_id: int) -> list[dict]:
    """Who is on the ticket now; nobody when the cache is down (fail open)."""
    return presence_list_from(_read(ticket_id) or {})


def presence_list_from(entries: dict[str, Any]) -> list[dict]:
    return sorted(
        (
            {"user_id": int(uid), "name": e["name"], "state": e["state"]}
            for uid, e in entries.items()
        ),
        key=lambda e: (e["name"], e["user_id"]),
    )
