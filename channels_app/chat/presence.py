"""Who is connected: counts of agent websockets per team, and of each chat visitor's
widget sockets, in the cache.

The agent workspace consumer calls agent_presence_connect() when a socket opens and
agent_presence_disconnect() when it closes (sync functions: wrap them with
database_sync_to_async or sync_to_async from a consumer). The chat widget asks
agent_online() to choose between live chat and a message form.

The chat widget consumer calls visitor_presence_connect()/_disconnect() the same way;
the chat sender asks visitor_online() whether a reply reaches an open widget now.

Counts expire PRESENCE_TTL after the last connect, so a worker that died without
running disconnect cannot leave a team "online" for ever.
"""

from collections.abc import Iterable

from django.core.cache import cache

PRESENCE_TTL = 12 * 3600
ANY_KEY = "presence:agents:any"


def _team_key(team_id: int) -> str:
    return f"presence:agents:team:{team_id}"


def agent_key(user_id: int) -> str:
    return f"presence:agents:user:{user_id}"


def _keys(team_ids: Iterable[int], user_id: int | None = None) -> list[str]:
    keys = [ANY_KEY, *(_team_key(team_id) for team_id in sorted(set(team_ids)))]
    return keys if user_id is None else [*keys, agent_key(user_id)]


def _visitor_key(visitor_id: str) -> str:
    return f"presence:visitor:{visitor_id}"


def _up(keys: Iterable[str]) -> None:
    for key in keys:
        cache.add(key, 0, PRESENCE_TTL)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, PRESENCE_TTL)
        cache.touch(key, PRESENCE_TTL)


def _down(keys: Iterable[str]) -> None:
    for key in keys:
        try:
            if cache.decr(key) < 0:
                cache.set(key, 0, PRESENCE_TTL)
        except ValueError:  # already expired: nothing to take away
            pass


def agent_presence_connect(*, team_ids: Iterable[int], user_id: int | None = None) -> None:
    """One more agent socket for each of these teams (and for "any agent", and for the
    agent: automatic assignment skips agents with no workspace open)."""
    _up(_keys(team_ids, user_id))


def agent_presence_disconnect(*, team_ids: Iterable[int], user_id: int | None = None) -> None:
    _down(_keys(team_ids, user_id))


def agents_online(user_ids: Iterable[int]) -> set[int]:
    """Which of these agents have a workspace socket open now (one cache read)."""
    ids = list(user_ids)
    if not ids:
        return set()
    counts = cache.get_many([agent_key(user_id) for user_id in ids])
    return {user_id for user_id in ids if int(counts.get(agent_key(user_id)) or 0) > 0}


def visitor_presence_connect(*, visitor_id: str) -> None:
    """One more open widget (tab) of this chat visitor."""
    _up([_visitor_key(visitor_id)])


def visitor_presence_disconnect(*, visitor_id: str) -> None:
    _down([_visitor_key(visitor_id)])


def visitor_online(visitor_id: str) -> bool:
    """Has this chat visitor a widget open now?"""
    return int(cache.get(_visitor_key(visitor_id)) or 0) > 0


def agent_online(team_id: int | None) -> bool:
    """Is an agent of this team connected? With no team: is any agent connected?"""
    key = _team_key(team_id) if team_id else ANY_KEY
    return int(cache.get(key) or 0) > 0
