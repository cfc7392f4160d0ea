"""Websocket fan-out: N agent sockets on one team queue group, one new inbound message.

Measures, through uvicorn, Channels and channels-redis, the time from calling
inbound_message_ingest() (which publishes to the team's queue group on commit) until
each socket has the event: per-socket latency p50/p95 and time-until-all p50/p95 over
the rounds. The sockets are served by a stand-in for the agent workspace consumer that
does what it does with queue events (join the team queue group, forward each event).

Knobs: BENCH_CHAT_SOCKETS (200), BENCH_CHAT_ROUNDS (20).
"""

import asyncio
import json
import os
import statistics
import threading
import time
import uuid
from typing import Any

REDIS_NEEDED = "needs REDIS_URL (channels-redis)"


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _app(team_id: int) -> Any:
    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from channels.routing import URLRouter
    from django.urls import path

    from tickets.events import team_queue_group

    class QueueSocket(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.channel_layer.group_add(team_queue_group(team_id), self.channel_name)
            await self.accept()

        async def disconnect(self, code: int) -> None:
            await self.channel_layer.group_discard(team_queue_group(team_id), self.channel_name)

        async def helpdesk_event(self, event: dict[str, Any]) -> None:
            await self.send_json(event["payload"])

    from channels.routing import ProtocolTypeRouter

    return ProtocolTypeRouter({"websocket": URLRouter([path("ws/q/", QueueSocket.as_asgi())])})


def _serve(app: Any) -> tuple[Any, int]:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws_max_queue=64
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's ASGI server did not start")
        time.sleep(0.05)
    return server, server.servers[0].sockets[0].getsockname()[1]


async def _measure(port: int, team_id: int, sockets: int, rounds: int) -> dict[str, list[float]]:
    import websockets
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from channels_app.inbound import Identity, InboundMessage
    from channels_app.ingest import inbound_message_ingest
    from tickets.models import Channel, IdentityKind

    url = f"ws://127.0.0.1:{port}/ws/q/"
    clients = []
    for _ in range(sockets):
        clients.append(await websockets.connect(url, origin=None, max_queue=64))
    await asyncio.sleep(0.5)  # every group_add has landed
    run_id = uuid.uuid4().hex[:8]
    per_socket: list[float] = []
    until_all: list[float] = []

    async def first_event(client: Any, started: float) -> float:
        while True:
            data = json.loads(await asyncio.wait_for(client.recv(), 10))
            if data.get("kind") in ("created", "message"):
                return (time.perf_counter() - started) * 1000

    for index in range(rounds):
        message = InboundMessage(
            channel=Channel.SMS,
            external_id=f"bench-chat-{run_id}-{index}",
            sender=Identity(IdentityKind.PHONE, f"+1415555{index % 10000:04d}"),
            subject="",
            text="Is my order on its way?",
            html=None,
            received_at=timezone.now(),
            team_id=team_id,
        )
        started = time.perf_counter()
        waits = [asyncio.ensure_future(first_event(c, started)) for c in clients]
        await sync_to_async(inbound_message_ingest)(message=message)
        latencies = await asyncio.gather(*waits)
        per_socket.extend(latencies)
        until_all.append(max(latencies))
        # The ticket's "created" and "message" hints can both arrive: drain the rest.
        await asyncio.sleep(0.05)
        for client in clients:
            while True:
                try:
                    await asyncio.wait_for(client.recv(), 0.001)
                except TimeoutError:
                    break
    for client in clients:
        await client.close()
    return {"per_socket": per_socket, "until_all": until_all}


def run() -> list[dict[str, Any]]:
    from django.conf import settings

    from tickets.models import Team

    name = "chat fan-out (websockets, channels-redis)"
    if not settings.REDIS_URL:
        return [{"benchmark": name, "metric": "skipped", "value": REDIS_NEEDED, "target": ""}]
    sockets = int(os.environ.get("BENCH_CHAT_SOCKETS", "200"))
    rounds = int(os.environ.get("BENCH_CHAT_ROUNDS", "20"))
    team, _ = Team.objects.get_or_create(name="Bench fan-out")
    server, port = _serve(_app(team.pk))
    try:
        result = asyncio.run(_measure(port, team.pk, sockets, rounds))
    finally:
        server.should_exit = True
    per_socket, until_all = result["per_socket"], result["until_all"]
    label = f"{name}, {sockets} sockets"
    return [
        {
            "benchmark": label,
            "metric": "all received p50 (ms)",
            "value": statistics.median(until_all),
        },
        {
            "benchmark": label,
            "metric": "all received p95 (ms)",
            "value": _percentile(until_all, 95),
            "target": "< 250",
        },
        {
            "benchmark": label,
            "metric": "per socket p50 (ms)",
            "value": statistics.median(per_socket),
        },
        {
            "benchmark": label,
            "metric": "per socket p95 (ms)",
            "value": _percentile(per_socket, 95),
        },
    ]


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    django.setup()
    for row in run():
        print(row)
