"""Two real `celery beat` processes on one database (a misconfigured deployment, or an
old beat left running during a rollout) and two sweeps, all firing the SLA tick, the
outbox relay, the webhook relay and the retry of stale payloads every second into one
broker, with a prefork worker running what they send. They all start before Redis does.
Every SLA event, breach notice (an outbox row), reply, webhook delivery and stale payload
is handled exactly once."""

import subprocess
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from channels_app import delivery
from channels_app.ingest import raw_inbound_store
from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus, RawInbound, RawStatus
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory
from tests.faults.conftest import Stack, mime, wait_for
from tests.faults.test_concurrent_sweeps import _policy
from tests.live_server import SmtpSink
from tests.tickets.integrations.webhooks.conftest import Receiver
from tickets.integrations.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEvent
from tickets.integrations.webhooks import outbox
from tickets.integrations.webhooks.services import webhook_create
from tickets.models import Channel, EventKind, Message, SlaRecord, Ticket, TicketEvent
from tickets.services import message_reply, ticket_assign, ticket_create

pytestmark = pytest.mark.timeout(120)

TICKETS = 6
PAYLOADS = 4
# How long the beats keep firing after everything due was handled once: a second run of
# any of it, from either beat or a sweep, would land in this window.
OVERLAP = 6.0
BROKER_LATE = 2.0  # Redis stays down this long after the worker and beats are up
FAST_TASKS = (
    "tickets.tasks.sla_tick_task",
    "channels_app.tasks.delivery_relay_task",
    "tickets.integrations.tasks.webhook_relay_task",
    "channels_app.tasks.raw_inbound_retry_stale_task",
)
SWEEP = """
import time
from channels_app.delivery import delivery_relay
from channels_app.ingest import raw_inbound_retry_stale
from tickets.integrations.webhooks.outbox import webhook_relay
from tickets.sla.timer import sla_process_due
until = time.monotonic() + {seconds}
while time.monotonic() < until:
    sla_process_due()
    delivery_relay()
    webhook_relay()
    raw_inbound_retry_stale()
    time.sleep(0.3)
"""


def _every_second() -> None:
    """The four periodic tasks due every second; the rest of the schedule off."""
    PeriodicTask.objects.update(enabled=False)
    second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    for task in FAST_TASKS:
        PeriodicTask.objects.update_or_create(
            name=f"fault suite: {task}",
            defaults={"task": task, "interval": second, "enabled": True, "kwargs": "{}"},
        )


def _beat(stack: Stack, name: str) -> subprocess.Popen[bytes]:
    return stack._spawn(
        name,
        ["-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "INFO", "--pidfile=",
         "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_beats_and_two_sweeps_handle_due_work_once(stack, smtp_sink, settings, monkeypatch):
    # What the test process writes is sent only by what the beats fire.
    monkeypatch.setattr(delivery, "_enqueue", lambda *args, **kwargs: None)
    monkeypatch.setattr(outbox, "_enqueue", lambda *args, **kwargs: None)
    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = True
    receiver = Receiver().start()
    try:
        _run(stack, smtp_sink, receiver)
    finally:
        receiver.stop()


def _run(stack: Stack, smtp_sink: SmtpSink, receiver: Receiver) -> None:
    _policy()
    webhook_create(name="CRM", url=receiver.url, events=WebhookEvent.values)
    agent = AgentFactory(email="lee@staff.example")
    tickets = []
    for i in range(TICKETS):
        customer = CustomerFactory()
        IdentityFactory(customer=customer, value=f"beat{i}@example.com")
        ticket = ticket_create(customer=customer, subject=f"Beat {i}", channel=Channel.EMAIL)
        ticket_assign(ticket=ticket, agent=agent, actor=agent)
        message_reply(ticket=ticket, author=agent, body_text=f"Answer {i}.", is_internal=True)
        tickets.append(ticket)
    # Every clock ran out two days ago: the next tick breaches them all.
    SlaRecord.objects.filter(ticket__in=tickets, due_at__isnull=False).update(
        due_at=F("due_at") - timedelta(days=2), started_at=F("started_at") - timedelta(days=2)
    )
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        sla_next_check_at=timezone.now() - timedelta(minutes=1)
    )
    for i in range(2):  # and a reply each to two customers, waiting in the outbox
        message_reply(ticket=tickets[i], author=agent, body_text=f"Reply {i}.")
    old = timezone.now() - timedelta(hours=1)
    for i in range(PAYLOADS):
        raw = raw_inbound_store(
            channel=Channel.EMAIL,
            adapter="email",
            source="pipe",
            payload=mime(f"beat-stale{i}@customer.example.com", f"stale{i}@example.com", "Old"),
            content_type="message/rfc822",
        )
        RawInbound.objects.filter(pk=raw.pk).update(received_at=old)
    _every_second()
    stack.env.update(
        HELPDESK_WEBHOOKS_ALLOW_PRIVATE="true",
        HELPDESK_DELIVERY_RELAY_AFTER="0",
        HELPDESK_WEBHOOK_RELAY_AFTER="0",
    )

    # Everything starts while Redis is still down (a host booting, Redis last): the worker
    # and the beats wait for the broker instead of exiting, then get to work.
    stack.redis.stop()
    worker = stack.worker("worker", concurrency=2)
    beats = [_beat(stack, "beat1"), _beat(stack, "beat2")]
    sweeps = [stack.popen_code(SWEEP.format(seconds=20), f"sweep{i}") for i in range(2)]
    wait_for(
        lambda: (
            "Cannot connect to redis" in stack.log("worker", tail=0)
            and all("beat: Starting" in stack.log(b, tail=0) for b in ("beat1", "beat2"))
        ),
        40,
        "the worker to retry the broker and both beats to start",
        every=0.2,
    )
    time.sleep(BROKER_LATE)  # past a beat's first due tasks, sent into a broker not there
    for proc, name in ((worker, "worker"), (beats[0], "beat1"), (beats[1], "beat2")):
        assert proc.poll() is None, stack.log(name)
    stack.redis.start()

    breach_events = TicketEvent.objects.filter(
        kind=EventKind.SLA, ticket__in=tickets, data__event="breach"
    )
    notices = Delivery.objects.filter(purpose=DeliveryPurpose.SLA_BREACH)
    webhooks = WebhookDelivery.objects.all()

    def all_handled_once() -> bool:
        breaches = breach_events.count()
        return (
            breaches >= TICKETS
            and notices.filter(status=DeliveryStatus.SENT).count() == breaches
            and Delivery.objects.filter(purpose=DeliveryPurpose.REPLY, status="sent").count() == 2
            and webhooks.exclude(status=WebhookDeliveryStatus.DELIVERED).count() == 0
            and webhooks.filter(event_type="sla.breached").count() == breaches
            and not RawInbound.objects.filter(status=RawStatus.RECEIVED).exists()
        )

    wait_for(all_handled_once, 45, "the beats to handle the due work", every=0.5)
    # Both beats are firing: each has sent the tick since the work was done.
    for beat in ("beat1", "beat2"):
        assert "Sending due task" in stack.log(beat, tail=0), stack.log(beat)
    time.sleep(OVERLAP)
    for sweep in sweeps:
        assert sweep.wait(30) == 0, stack.log("sweep0")
    assert worker.poll() is None and "Unrecoverable error" not in stack.log("worker", tail=0)

    keys = Counter(
        (e.ticket_id, e.data["target"], e.data["event"])
        for e in TicketEvent.objects.filter(kind=EventKind.SLA, ticket__in=tickets)
    )
    assert keys and max(keys.values()) == 1, keys
    breaches = breach_events.count()
    assert notices.count() == notices.filter(status=DeliveryStatus.SENT).count() == breaches
    mails = Counter(
        (tuple(e.rcpt_tos), message_from_bytes(e.content)["Subject"]) for e in smtp_sink.envelopes
    )
    assert max(mails.values()) == 1, mails  # no breach notice or reply mailed twice
    assert len(smtp_sink.envelopes) == breaches + 2
    # Webhooks: one row per event, each delivered once (one webhook-id per request).
    assert webhooks.filter(status=WebhookDeliveryStatus.DELIVERED).count() == webhooks.count()
    assert max(Counter(webhooks.values_list("event_id", flat=True)).values()) == 1
    sent_ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert max(sent_ids.values()) == 1, sent_ids
    assert len(sent_ids) == webhooks.count()
    for i in range(PAYLOADS):
        stored = Message.objects.filter(external_id__contains=f"beat-stale{i}@customer.example")
        assert stored.count() == 1
    print(
        f"\n2 beats + 2 sweeps: {len(keys)} SLA events, {breaches} breach notices, "
        f"{webhooks.count()} webhook deliveries, 2 replies, {PAYLOADS} stale payloads; each once"
    )
