"""Two beats, four sweeps at once: four processes run the periodic tasks (the SLA tick,
the outbox relay, the retry of stale payloads) over the same due work at the same moment.
Every SLA event, breach notification, reply and payload is handled exactly once."""

import re
import time
from collections import Counter
from datetime import time as day_time
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.utils import timezone

from channels_app import delivery
from channels_app.ingest import raw_inbound_store
from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus, RawInbound
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory
from tests.faults.conftest import mime, wait_for
from tickets.models import (
    BusinessHours,
    BusinessInterval,
    Channel,
    EventKind,
    Message,
    SlaPolicy,
    SlaTarget,
    TicketEvent,
)
from tickets.services import message_reply, ticket_assign, ticket_create

pytestmark = pytest.mark.timeout(150)

SWEEPS = 4
TICKETS = 8
REPLIES = 8
PAYLOADS = 8

SWEEP = """
import time
from datetime import timedelta
from django.utils import timezone
from channels_app.delivery import delivery_relay
from channels_app.ingest import raw_inbound_retry_stale
from tickets.sla.timer import sla_process_due
start = {start}
while time.time() < start:  # every sweep begins at the same instant
    time.sleep(0.005)
later = timezone.now() + timedelta(days=2)
sla_process_due(now=later)
raw_inbound_retry_stale(now=later)
delivery_relay()
"""


def _policy() -> None:
    calendar = BusinessHours.objects.create(name="Always", timezone="UTC")
    BusinessInterval.objects.bulk_create(
        BusinessInterval(calendar=calendar, weekday=day, start=day_time(0), end=day_time(23, 59))
        for day in range(7)
    )
    policy = SlaPolicy.objects.create(
        name="Standard", order=10, business_hours=calendar, notify_assignee=True
    )
    for priority in ("low", "normal", "high", "urgent"):
        SlaTarget.objects.create(
            policy=policy,
            priority=priority,
            first_response_minutes=60,
            next_response_minutes=120,
            resolution_minutes=480,
        )


@pytest.mark.django_db(transaction=True)
def test_it_handles_due_work_once_when_four_sweeps_run_at_once(stack, smtp_sink, monkeypatch):
    monkeypatch.setattr(delivery, "_enqueue", lambda *args, **kwargs: None)  # the sweeps will
    _policy()
    agent = AgentFactory(email="alex@staff.example")
    tickets = []
    for i in range(TICKETS):
        customer = CustomerFactory()
        IdentityFactory(customer=customer, value=f"due{i}@example.com")
        ticket = ticket_create(customer=customer, subject=f"Due {i}", channel=Channel.EMAIL)
        ticket_assign(ticket=ticket, agent=agent, actor=agent)
        tickets.append(ticket)
    for i in range(REPLIES):
        message_reply(ticket=tickets[i % TICKETS], author=agent, body_text=f"Answer {i}.")
    old = timezone.now() - timedelta(hours=1)
    for i in range(PAYLOADS):
        raw = raw_inbound_store(
            channel=Channel.EMAIL,
            adapter="email",
            source="pipe",
            payload=mime(f"stale{i}@customer.example.com", f"stale{i}@example.com", "Stale"),
            content_type="message/rfc822",
        )
        RawInbound.objects.filter(pk=raw.pk).update(received_at=old)

    # Tasks the sweeps enqueue run inline in each sweep, so they race each other too.
    env = {"CELERY_TASK_ALWAYS_EAGER": "true", "HELPDESK_DELIVERY_RELAY_AFTER": "0"}
    start = time.time() + 6  # time enough for four interpreters to start
    procs = [stack.popen_code(SWEEP.format(start=start), f"sweep{i}", **env) for i in range(4)]
    for proc in procs:
        assert proc.wait(90) == 0, stack.log("sweep0")
    wait_for(lambda: len(smtp_sink.envelopes) >= REPLIES, 10, "the replies to reach the sink")
    time.sleep(0.5)

    events = TicketEvent.objects.filter(kind=EventKind.SLA, ticket__in=tickets)
    keys = Counter((e.ticket_id, e.data["target"], e.data["event"]) for e in events)
    assert keys and max(keys.values()) == 1, keys
    mails = Counter(
        (tuple(e.rcpt_tos), message_from_bytes(e.content)["Subject"]) for e in smtp_sink.envelopes
    )
    assert max(mails.values()) == 1  # no mail (reply or breach notice) sent twice
    breach_mails = [e for e in smtp_sink.envelopes if "alex@staff.example" in e.rcpt_tos]
    breaches = sum(1 for key in keys if key[2] == "breach")
    assert 0 < len(breach_mails) <= breaches
    replies = Delivery.objects.filter(purpose=DeliveryPurpose.REPLY)
    assert replies.filter(status=DeliveryStatus.SENT).count() == REPLIES
    notices = Delivery.objects.filter(purpose=DeliveryPurpose.SLA_BREACH)
    assert notices.count() == notices.filter(status=DeliveryStatus.SENT).count() == breaches
    ids = Counter(
        m.group(1)
        for m in (re.search(rb"^Message-ID: (\S+)", e.content, re.M) for e in smtp_sink.envelopes)
        if m
    )
    assert max(ids.values()) == 1
    assert RawInbound.objects.filter(status="processed").count() == PAYLOADS
    for i in range(PAYLOADS):
        stored = Message.objects.filter(external_id__contains=f"stale{i}@customer.example.com")
        assert stored.count() == 1
    print(
        f"\n{SWEEPS} concurrent sweeps: {len(keys)} SLA events, {breaches} breach notices, "
        f"{REPLIES} replies, {PAYLOADS} stale payloads; each once"
    )
