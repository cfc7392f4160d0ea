"""The agent websocket (/ws/agent/): change hints and presence for open agent pages.

A page says what it shows ({"action": "subscribe", "ticket": id} or {"queue": "noteam" |
"team.<id>" | "mine"}) and receives hints ({"type": "event", "payload": {...}}) for it;
it then fetches the changed fragment over HTTP. Every socket also gets the "chats_waiting"
hints of the header's waiting-chats counter. Hints are not the record: a page that
reconnects resyncs over HTTP, so nothing here needs to be durable.
"""

from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.chat.presence import agent_presence_connect, agent_presence_disconnect
from channels_app.chat.services import chat_agent_typing
from helpdesk.roles import is_agent
from tickets.automation.assignment import assignment_queue_nudge
from tickets.events import (
    CHATS_WAITING_GROUP,
    agent_queue_group,
    team_queue_group,
    ticket_group,
)
from tickets.models import Team
from tickets.visibility import team_queue_visible, ticket_id_visible
from tickets.workspace import presence

MAX_GROUPS = 64
CLOSE_FORBIDDEN = 4403


def _team_ids(user: Any) -> list[int]:
    return list(Team.objects.filter(members=user).values_list("pk", flat=True))


def _display_name(user: Any) -> str:
    return (user.get_full_name() or user.first_name or user.get_username()).strip()


class AgentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        allowed = await database_sync_to_async(is_agent)(user)
        if not allowed:
            # Refused before the handshake completes: anonymous users and non-agents.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.name = _display_name(user)
        self.groups_joined: set[str] = set()
        self.presence_tickets: set[int] = set()
        self.replying_on: set[int] = set()
        # Counted per team so the chat widget knows whether anyone can answer it.
        self.team_ids: list[int] = await database_sync_to_async(_team_ids)(user)
        await self.accept()
        self.user_id: int = user.pk
        await database_sync_to_async(agent_presence_connect)(
            team_ids=self.team_ids, user_id=self.user_id
        )
        # Online now: tickets waiting for nobody in this agent's teams come to them.
        await database_sync_to_async(assignment_queue_nudge)(user_id=self.user_id)
        # Every agent page's header counts the chats waiting for a reply.
        await self.channel_layer.group_add(CHATS_WAITING_GROUP, self.channel_name)
        self.groups_joined.add(CHATS_WAITING_GROUP)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "team_ids"):
            await database_sync_to_async(agent_presence_disconnect)(
                team_ids=self.team_ids, user_id=getattr(self, "user_id", None)
            )
        for ticket_id in list(getattr(self, "replying_on", set())):
            await self._chat_typing(ticket_id, typing=False)
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)
        for ticket_id in getattr(self, "presence_tickets", set()):
            agents = await sync_to_async(presence.presence_clear)(
                ticket_id=ticket_id, user_id=self.user.pk
            )
            await self._broadcast_presence(ticket_id, agents)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("Send a JSON object with an action.")
            return
        action = content.get("action")
        if action in ("subscribe", "unsubscribe"):
            group = await self._group_for(content)
            if group is None:
                await self._error("Unknown ticket or queue: nothing subscribed.")
                return
            if action == "subscribe":
                if group not in self.groups_joined and len(self.groups_joined) >= MAX_GROUPS:
                    await self._error(f"At most {MAX_GROUPS} subscriptions per page.")
                    return
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.add(group)
            else:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.groups_joined.discard(group)
            await self.send_json({"type": action + "d", "group": group})
        elif action == "presence":
            await self._presence(content)
        else:
            await self._error(f"Unknown action {action!r}.")

    async def _presence(self, content: dict) -> None:
        ticket_id, state = content.get("ticket"), content.get("state")
        if not isinstance(ticket_id, int) or ticket_group(ticket_id) not in self.groups_joined:
            await self._error("Subscribe to the ticket before announcing presence on it.")
            return
        if state == "gone":
            agents = await sync_to_async(presence.presence_clear)(
                ticket_id=ticket_id, user_id=self.user.pk
            )
            self.presence_tickets.discard(ticket_id)
        elif state in presence.STATES:
            agents = await sync_to_async(presence.presence_set)(
                ticket_id=ticket_id, user_id=self.user.pk, name=self.name, state=state
            )
            self.presence_tickets.add(ticket_id)
        else:
            await self._error("Presence is viewing, replying or gone.")
            return
        await self._broadcast_presence(ticket_id, agents)
        # A chat visitor sees "<agent> is typing…" while an agent writes the reply.
        if state == "replying" and ticket_id not in self.replying_on:
            await self._chat_typing(ticket_id, typing=True)
        elif state != "replying" and ticket_id in self.replying_on:
            await self._chat_typing(ticket_id, typing=False)

    async def _chat_typing(self, ticket_id: int, *, typing: bool) -> None:
        if typing:
            self.replying_on.add(ticket_id)
        else:
            self.replying_on.discard(ticket_id)
        await database_sync_to_async(chat_agent_typing)(
            ticket_id=ticket_id, agent_name=self.name, typing=typing
        )

    async def _broadcast_presence(self, ticket_id: int, agents: list[dict]) -> None:
        await self.channel_layer.group_send(
            ticket_group(ticket_id),
            {"type": "helpdesk.presence", "ticket_id": ticket_id, "agents": agents},
        )

    async def _group_for(self, content: dict) -> str | None:
        ticket_id, queue = content.get("ticket"), content.get("queue")
        if isinstance(ticket_id, int):
            exists = await database_sync_to_async(ticket_id_visible)(self.user, ticket_id)
            return ticket_group(ticket_id) if exists else None
        if queue == "mine":
            return agent_queue_group(self.user.pk)
        team_id: int | None
        if queue == "noteam":
            team_id = None
        elif isinstance(queue, str) and queue.startswith("team.") and queue[5:].isdigit():
            team_id = int(queue[5:])
        else:
            return None
        # A queue's hints name the ticket ids that change in it: only for who may see them.
        allowed = await database_sync_to_async(team_queue_visible)(self.user, team_id)
        return team_queue_group(team_id) if allowed else None

    async def _error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})

    async def helpdesk_event(self, event: dict) -> None:
        await self.send_json({"type": "event", "payload": event["payload"]})

    async def helpdesk_presence(self, event: dict) -> None:
        await self.send_json(
            {"type": "presence", "ticket_id": event["ticket_id"], "agents": event["agents"]}
        )
