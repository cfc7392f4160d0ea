"""kill -9 of a real Celery worker in the middle of a queue of replies: every reply is
delivered once a new worker and the outbox relay run; a send cut off mid-way may go out
twice, never more than the sends in flight at the kill, and the copy has the same
Message-ID (so the customer's mail client threads it and drops the duplicate)."""

import asyncio
import re
import time
from collections import Counter
from typing import Any

import pytest

from channels_app import delivery
from channels_app.models import Delivery, DeliveryStatus
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory, TicketFactory
from tests.faults.conftest import wait_for
from tickets.models import Channel
from tickets.services import message_reply

pytestmark = pytest.mark.timeout(150)

REPLIES = 100
KILL_AFTER_SENT = 30
STALE_AFTER = 2  # seconds a delivery may sit in `sending` before the relay resends it


def _message_ids(sink: Any) -> list[bytes]:
    found = (re.search(rb"^Message-ID: (\S+)", e.content, re.M | re.I) for e in sink.envelopes)
    return [m.group(1) for m in found if m]


@pytest.mark.django_db(transaction=True)
def test_it_delivers_every_reply_after_the_worker_is_killed_mid_queue(
    stack, smtp_sink, monkeypatch
):
    # The replies are written here; only the stack's relay may enqueue them (on its broker).
    monkeypatch.setattr(delivery, "_enqueue", lambda *args, **kwargs: None)

    async def slow_data(server: Any, session: Any, envelope: Any) -> str:
        smtp_sink.envelopes.append(envelope)
        await asyncio.sleep(0.15)  # a real relay takes a moment: the kill lands mid-send
        return "250 Message accepted for delivery"

    monkeypatch.setattr(smtp_sink, "handle_DATA", slow_data)
    agent = AgentFactory()
    for i in range(REPLIES):
        customer = CustomerFactory()
        IdentityFactory(customer=customer, value=f"customer{i}@example.com")
        ticket = TicketFactory(customer=customer, channel=Channel.EMAIL)
        message_reply(ticket=ticket, author=agent, body_text=f"Reply number {i}.")
    deliveries = Delivery.objects.filter(channel=Channel.EMAIL)
    assert deliveries.filter(status=DeliveryStatus.QUEUED).count() == REPLIES
    relay = "from channels_app.delivery import delivery_relay; print(delivery_relay())"
    assert stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="0").strip() == str(REPLIES)

    first = stack.worker("first", concurrency=2)

    def mid_queue_and_mid_send() -> bool:
        sent = deliveries.filter(status=DeliveryStatus.SENT).count()
        return sent >= KILL_AFTER_SENT and deliveries.filter(status=DeliveryStatus.SENDING).exists()

    wait_for(mid_queue_and_mid_send, 90, "the first worker to be mid-queue, mid-send", every=0.01)
    stack.kill(first)  # SIGKILL to the worker and its pool processes
    in_flight = deliveries.filter(status=DeliveryStatus.SENDING).count()
    sent_at_kill = deliveries.filter(status=DeliveryStatus.SENT).count()

    stack.worker("second", concurrency=2)
    time.sleep(STALE_AFTER + 0.5)
    # What the beat does every minute: resend what was cut off, re-enqueue what the dead
    # worker had taken off the queue but not started.
    stack.run(relay, HELPDESK_DELIVERY_RELAY_AFTER="1", HELPDESK_DELIVERY_STALE_AFTER="2")
    wait_for(
        lambda: deliveries.filter(status=DeliveryStatus.SENT).count() == REPLIES,
        60,
        "every reply to be sent after the kill",
        every=0.5,
    )
    time.sleep(1)  # a stray duplicate would land in this second

    ids = Counter(_message_ids(smtp_sink))
    duplicates = sum(ids.values()) - len(ids)
    assert len(ids) == REPLIES  # every reply delivered
    assert duplicates <= in_flight  # only sends cut off mid-way went twice...
    assert max(ids.values()) <= 2  # ...once more each, under the same Message-ID
    assert deliveries.exclude(status=DeliveryStatus.SENT).count() == 0
    resent = deliveries.filter(last_error=delivery.RESENT_NOTE).count()
    assert resent == in_flight  # the agent sees which ones went out again
    print(
        f"\nkill -9 with {REPLIES} replies queued: {sent_at_kill} sent before the kill, "
        f"{in_flight} in flight; {len(ids)} delivered, {duplicates} duplicates"
    )
