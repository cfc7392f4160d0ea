"""The chat widget's websocket (/ws/chat/?channel=<key>). Thin: every rule is in
channels_app.chat.services. Frames are JSON objects with a "type":

visitor -> server: hello {token?}, identify {name, email}, message {id, text},
                   offline {id, name, email, text}, typing {typing}, transcript, status,
                   received {id} or {ids: [...]} (the widget got these agent messages)
server -> visitor: welcome {...}, identified, ack {id, ticket}, message {...},
                   typing {typing, author}, status {agents_online}, transcript_sent {email},
                   error {code, message, id?}

The handshake is refused (close 4403) for an unknown channel or a page whose origin is
not one of the channel's allowed domains; a token this server did not sign ends the
socket with 4401 so the widget starts a new session.
"""

import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.chat import services as chat
from channels_app.chat.presence import (
    agent_online,
    visitor_presence_connect,
    visitor_presence_disconnect,
)
from channels_app.chat.sender import chat_visitor_group
from channels_app.models import ChatChannel
from helpdesk.errors import DomainError

TYPING_MIN_INTERVAL = 2.0  # seconds between two "typing" hints passed on to agents
MAX_TEXT = 5000


class ChatConsumer(AsyncJsonWebsocketConsumer):
    channel_cfg: ChatChannel | None = None
    visitor_id: str | None = None
    last_typing: tuple[bool, float] = (False, 0.0)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        key = (query.get("channel") or [""])[0]
        origin = dict(self.scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
        channel = await database_sync_to_async(chat.chat_channel_get)(key=key)
        if channel is None or not chat.chat_origin_allowed(channel=channel, origin=origin):
            await self.close(code=4403)
            return
        self.channel_cfg = channel
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.visitor_id is not None:
            await self._leave(self.visitor_id)

    async def _leave(self, visitor_id: str) -> None:
        await self.channel_layer.group_discard(chat_visitor_group(visitor_id), self.channel_name)
        await database_sync_to_async(visitor_presence_disconnect)(visitor_id=visitor_id)

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.error("invalid", "Each frame must be a JSON object with a type.")
            return
        kind = content["type"]
        if kind == "hello":
            await self.hello(content)
            return
        if self.visitor_id is None:
            await self.error("hello_first", "Send hello (with your token, if you have one) first.")
            return
        handler = {
            "identify": self.identify,
            "message": self.message,
            "offline": self.offline,
            "typing": self.typing,
            "transcript": self.transcript,
            "status": self.status,
            "received": self.received,
        }.get(kind)
        if handler is None:
            await self.error("invalid", f"Unknown frame type “{kind}”.")
            return
        try:
            await handler(content)
        except DomainError as exc:
            await self.error(exc.code.value, exc.message, id=str(content.get("id", "")))

    async def hello(self, content: dict[str, Any]) -> None:
        assert self.channel_cfg is not None
        token = content.get("token")
        try:
            welcome = await database_sync_to_async(chat.chat_welcome)(
                channel=self.channel_cfg, token=token if isinstance(token, str) else None
            )
        except chat.ChatError as exc:
            await self.error(exc.code.value, exc.message)
            await self.close(code=4401)
            return
        if self.visitor_id != welcome.visitor_id:  # a repeated hello is already counted
            if self.visitor_id is not None:
                await self._leave(self.visitor_id)
            self.visitor_id = welcome.visitor_id
            await self.channel_layer.group_add(
                chat_visitor_group(self.visitor_id), self.channel_name
            )
            # Counted so a reply sent while no widget is open says so to the agent.
            await database_sync_to_async(visitor_presence_connect)(visitor_id=self.visitor_id)
        await self.send_json(
            {
                "type": "welcome",
                "token": welcome.token,
                "greeting": welcome.greeting,
                "colour": welcome.colour,
                "agents_online": welcome.agents_online,
                "require_email": welcome.require_email,
                "email": welcome.email,
                "history": welcome.history,
            }
        )

    def _text(self, content: dict[str, Any], field: str = "text") -> str:
        value = content.get(field)
        if not isinstance(value, str) or not value.strip():
            raise chat.ChatError(chat.ChatErrorCode.INVALID, "Write a message before sending.")
        if len(value) > MAX_TEXT:
            raise chat.ChatError(
                chat.ChatErrorCode.INVALID,
                f"Messages can be at most {MAX_TEXT} characters; split it in two.",
            )
        return value

    def _client_id(self, content: dict[str, Any]) -> str:
        value = content.get("id")
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise chat.ChatError(chat.ChatErrorCode.INVALID, "Each message needs an id.")
        return value.strip()

    async def _limit(self) -> None:
        assert self.visitor_id is not None
        if not await database_sync_to_async(chat.chat_rate_allow)(visitor_id=self.visitor_id):
            raise chat.ChatError(
                chat.ChatErrorCode.RATE_LIMITED,
                "You are sending messages very quickly. Wait a minute, then send again.",
            )

    async def identify(self, content: dict[str, Any]) -> None:
        await self._limit()
        name, email = content.get("name"), content.get("email")
        if not isinstance(email, str) or not email.strip():
            raise chat.ChatError(chat.ChatErrorCode.INVALID, "Enter your email address.")
        await database_sync_to_async(chat.chat_visitor_identify)(
            visitor_id=self.visitor_id, name=name if isinstance(name, str) else "", email=email
        )
        email = await database_sync_to_async(chat.chat_visitor_email)(visitor_id=self.visitor_id)
        await self.send_json({"type": "identified", "email": email})

    async def message(self, content: dict[str, Any]) -> None:
        assert self.channel_cfg is not None and self.visitor_id is not None
        client_id, text = self._client_id(content), self._text(content)
        await self._limit()
        receipt = await database_sync_to_async(chat.chat_message_receive)(
            channel=self.channel_cfg, visitor_id=self.visitor_id, client_id=client_id, text=text
        )
        self.last_typing = (False, 0.0)
        await self.send_json({"type": "ack", "id": client_id, "ticket": receipt.ticket_number})

    async def offline(self, content: dict[str, Any]) -> None:
        assert self.channel_cfg is not None and self.visitor_id is not None
        client_id, text = self._client_id(content), self._text(content)
        email, name = content.get("email"), content.get("name")
        if not isinstance(email, str) or not email.strip():
            raise chat.ChatError(chat.ChatErrorCode.INVALID, "Enter your email so we can reply.")
        await self._limit()
        receipt = await database_sync_to_async(chat.chat_offline_message)(
            channel=self.channel_cfg,
            visitor_id=self.visitor_id,
            client_id=client_id,
            name=name if isinstance(name, str) else "",
            email=email,
            text=text,
        )
        await self.send_json(
            {"type": "ack", "id": client_id, "ticket": receipt.ticket_number, "offline": True}
        )

    async def typing(self, content: dict[str, Any]) -> None:
        state = bool(content.get("typing"))
        previous, when = self.last_typing
        now = time.monotonic()
        # Pass on changes at once, repeats at most every TYPING_MIN_INTERVAL.
        if state == previous and now - when < TYPING_MIN_INTERVAL:
            return
        self.last_typing = (state, now)
        await database_sync_to_async(chat.chat_visitor_typing)(
            visitor_id=self.visitor_id, typing=state
        )

    async def transcript(self, content: dict[str, Any]) -> None:
        await self._limit()
        email = await database_sync_to_async(chat.chat_transcript_request)(
            visitor_id=self.visitor_id
        )
        await self.send_json({"type": "transcript_sent", "email": email})

    async def status(self, content: dict[str, Any]) -> None:
        assert self.channel_cfg is not None
        online = await database_sync_to_async(agent_online)(self.channel_cfg.team_id)
        await self.send_json({"type": "status", "agents_online": online})

    async def received(self, content: dict[str, Any]) -> None:
        # No answer, not even an error: the widget has nothing to do about a bad id, and
        # ids that are not replies to this visitor are simply ignored by the service.
        ids = content.get("ids")
        if not isinstance(ids, list):
            ids = [content.get("id")]
        await database_sync_to_async(chat.chat_replies_received)(
            visitor_id=self.visitor_id, ids=ids
        )

    # --- group events -------------------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", **event["message"]})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "typing", "typing": event.get("typing", False), "author": event.get("author")}
        )
