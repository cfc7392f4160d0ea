"""A real prefork worker lives through Redis going away in the middle of its sends (tasks
taken but not yet acknowledged), reconnects when Redis is back, and the queue drains.

Without the guard in helpdesk/celery.py the worker exits on such an outage with
"Unrecoverable error: AttributeError('NoneType' object has no attribute 'hostname')"."""

import asyncio
import time
from typing import Any

import pytest

from channels_app import delivery
from channels_app.models import Delivery, DeliveryStatus
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory, TicketFactory
from tests.faults.conftest import wait_for
from tickets.models import Channel
from tickets.services import message_reply

pytestmark = pytest.mark.timeout(150)

REPLIES = 24
OUTAGES = 2
OUTAGE = 5.0
# Short tasks arriving all the time, as beat and the web servers send them: the worker
# is forever taking and acknowledging, so an outage finds it holding some.
TRAFFIC = """
import time
from channels_app.tasks import delivery_relay_task
from helpdesk.tasks import ping
while True:
    try:
        delivery_relay_task.delay()
        ping.delay()
    except Exception:
        pass
    time.sleep(0.2)
"""


def test_it_makes_a_channel_of_a_released_connection_raise_a_connection_error(private_redis):
    from kombu import Connection
    from kombu.common import ignore_errors
    from redis.exceptions import ConnectionError as RedisConnectionError

    import helpdesk.celery  # noqa: F401  (installs the guard)

    connection = Connection(private_redis.url)
    channel = connection.default_channel
    connection.release()  # what the consumer does when the broker drops

    # Restoring unacknowledged messages and a late ack, both on the released connection:
    # connection errors (Celery reconnects), not AttributeError (Celery exits).
    with pytest.raises(RedisConnectionError):
        channel.qos.restore_unacked()
    with pytest.raises(RedisConnectionError):
        channel.qos.ack("tag")
    with ignore_errors(connection):  # how the consumer closes a lost connection's channel
        channel.qos.restore_unacked()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_worker_alive_through_broker_outages_mid_send(
    stack, private_redis, smtp_sink, monkeypatch
):
    monkeypatch.setattr(delivery, "_enqueue", lambda *args, **kwargs: None)

    async def slow_data(server: Any, session: Any, envelope: Any) -> str:
        smtp_sink.envelopes.append(envelope)
        await asyncio.sleep(0.3)
        return "250 Message accepted for delivery"

    monkeypatch.setattr(smtp_sink, "handle_DATA", slow_data)
    agent = AgentFactory()
    for i in range(REPLIES):
        customer = CustomerFactory()
        IdentityFactory(customer=customer, value=f"outage{i}@example.com")
        ticket = TicketFactory(customer=customer, channel=Channel.EMAIL)
        message_reply(ticket=ticket, author=agent, body_text=f"Reply {i}.")
    deliveries = Delivery.objects.filter(channel=Channel.EMAIL)
    relay = "from channels_app.delivery import delivery_relay; delivery_relay()"
    stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="0")
    worker = stack.worker("worker", concurrency=2)
    stack.popen_code(TRAFFIC, "traffic")

    for _ in range(OUTAGES):
        # Cut Redis while a task is running: the worker holds it unacknowledged.
        wait_for(
            lambda: deliveries.filter(status=DeliveryStatus.SENDING).exists(),
            60,
            "a send in progress",
            every=0.01,
        )
        private_redis.stop()
        time.sleep(OUTAGE)
        assert worker.poll() is None, stack.log("worker")
        private_redis.start()
        # This Redis keeps nothing across a restart, so the queue is gone: the outbox
        # relay (every minute under beat) enqueues the deliveries again.
        stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="0")
        assert worker.poll() is None, stack.log("worker")

    time.sleep(2)  # past the stale threshold below for anything cut off
    stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="1", HELPDESK_DELIVERY_STALE_AFTER="2")
    wait_for(
        lambda: deliveries.filter(status=DeliveryStatus.SENT).count() == REPLIES,
        60,
        "the queue to drain after the outages",
        every=0.5,
    )
    assert worker.poll() is None, stack.log("worker")
    assert "Unrecoverable error" not in stack.log("worker", tail=0)
