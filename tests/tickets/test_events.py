import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.factories import TeamFactory
from tickets.events import agent_queue_group, team_queue_group, ticket_group
from tickets.models import Status
from tickets.services import ticket_assign, ticket_set_status

pytestmark = pytest.mark.django_db


def _listen(*groups):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return layer, channel


def _receive(layer, channel):
    async def get():
        import asyncio

        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    return async_to_sync(get)()


def test_it_publishes_a_change_only_after_the_commit(
    ticket, agent, django_capture_on_commit_callbacks
):
    team = TeamFactory()
    ticket.team = team
    ticket.save()
    layer, channel = _listen(ticket_group(ticket.pk), team_queue_group(team.pk))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent)
    assert callbacks, "the publish waits for the commit"

    for callback in callbacks:
        callback()

    received = [_receive(layer, channel), _receive(layer, channel)]
    assert [m["payload"] for m in received] == [{"kind": "status", "ticket_id": ticket.pk}] * 2
    assert received[0]["type"] == "helpdesk.event"


def test_it_tells_the_old_and_new_assignee_queues(
    ticket, agent, other_agent, lead, django_capture_on_commit_callbacks
):
    ticket_assign(ticket=ticket, agent=agent, actor=agent)
    layer, channel = _listen(agent_queue_group(agent.pk), agent_queue_group(other_agent.pk))

    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, agent=other_agent, actor=lead)

    kinds = {_receive(layer, channel)["payload"]["kind"] for _ in range(2)}
    assert kinds == {"assigned"}


def test_it_sends_queued_events_in_the_order_they_were_published():
    from tickets.events import events_flush, hint_send

    layer, channel = _listen("ticket.order-check")
    for n in range(30):
        hint_send(["ticket.order-check"], {"kind": "message", "n": n})
    assert events_flush(timeout=10)
    assert [_receive(layer, channel)["payload"]["n"] for _ in range(30)] == list(range(30))


def test_a_failed_publish_is_logged_and_the_next_ones_still_go_out(caplog):
    from channels_redis.core import RedisChannelLayer

    from tickets.events import _publisher, events_flush, hint_send

    layer, channel = _listen("ticket.after-failure")
    unreachable = RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"])
    _publisher.publish(unreachable, ["ticket.lost"], {"kind": "lost"})
    hint_send(["ticket.after-failure"], {"kind": "message"})
    assert events_flush(timeout=10)
    assert _receive(layer, channel)["payload"] == {"kind": "message"}
    assert "could not publish lost" in caplog.text


def test_a_short_lived_process_still_sends_its_events_before_it_exits(tmp_path):
    """The MTA pipe command publishes on commit and exits at once: the queue is flushed at
    exit, not dropped with the sender thread."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    layer, channel = _listen("ticket.from-a-subprocess")
    script = (
        "import django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'helpdesk.settings')\n"
        "django.setup()\n"
        "from tickets.events import hint_send\n"
        "for n in range(5):\n"
        "    hint_send(['ticket.from-a-subprocess'], {'kind': 'message', 'n': n})\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={**os.environ, "HELPDESK_VAR_DIR": str(tmp_path)},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert [_receive(layer, channel)["payload"]["n"] for _ in range(5)] == list(range(5))
