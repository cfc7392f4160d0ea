"""Who is viewing or replying to a ticket, kept in the cache with an expiry.

One cache entry per ticket holds {user_id: {name, state, until}}. Pages refresh their
entry every PRESENCE_HEARTBEAT seconds; entries whose `until` passed are dropped on read,
so a closed tab or a dead server leaves no ghost beyond PRESENCE_TTL. Two agents
updating at the same instant can lose one update: the next heartbeat restores it, which
is cheaper than a lock for a hint.
"""

import time
from typing import Any

from django.core.cache import cache

PRESENCE_TTL = 45
PRESENCE_HEARTBEAT = 15
STATES = ("viewing", "replying")


def _key(ticket_id: int) -> str:
    return f"agent-presence:{ticket_id}"


def _live(entries: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    return {uid: e for uid, e in entries.items() if e.get("until", 0) > now}


def presence_set(*, ticket_id: int, user_id: int, name: str, state: str) -> list[dict]:
    if state not in STATES:
        raise ValueError(f"unknown presence state {state!r}")
    entries = _live(cache.get(_key(ticket_id)) or {})
    entries[str(user_id)] = {"name": name, "state": state, "until": time.time() + PRESENCE_TTL}
    cache.set(_key(ticket_id), entries, PRESENCE_TTL)
    return presence_list_from(entries)


def presence_clear(*, ticket_id: int, user_id: int) -> list[dict]:
    entries = _live(cache.get(_key(ticket_id)) or {})
    entries.pop(str(user_id), None)
    if entries:
        cache.set(_key(ticket_id), entries, PRESENCE_TTL)
    else:
        cache.delete(_key(ticket_id))
    return presence_list_from(entries)


def presence_list(*, ticket_id: int) -> list[dict]:
    return presence_list_from(_live(cache.get(_key(ticket_id)) or {}))


def presence_list_from(entries: dict[str, Any]) -> list[dict]:
    return sorted(
        (
            {"user_id": int(uid), "name": e["name"], "state": e["state"]}
            for uid, e in entries.items()
        ),
        key=lambda e: (e["name"], e["user_id"]),
    )
