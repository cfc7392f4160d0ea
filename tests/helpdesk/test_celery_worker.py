"""A real worker round trip over the Redis broker: the task leaves, runs and comes back."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import worker_ready, worker_shutdown

from helpdesk import heartbeat
from helpdesk.celery import app as celery_app
from helpdesk.tasks import ping


@pytest.fixture
def real_broker(settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()  # nothing left over from an earlier, interrupted run
    yield
    celery_app.conf.task_always_eager = True


def _heartbeat_threads():
    return [t for t in threading.enumerate() if t.name == "helpdesk-heartbeat" and t.is_alive()]


def test_it_round_trips_a_task_through_a_real_worker(real_broker, no_heartbeat):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        result = ping.delay()

        assert result.get(timeout=20) == "pong"


def test_it_beats_while_the_worker_lives_and_stops_after(real_broker, no_heartbeat):
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20
    ) as worker:
        # The embedded test worker skips worker_ready; send it as the real one does.
        worker_ready.send(sender=worker.consumer)
        worker_ready.send(sender=worker.consumer)  # a second signal starts no second thread
        assert len(_heartbeat_threads()) == 1
        deadline = time.monotonic() + 10
        while heartbeat.last_beat() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the thread's first beat lands a moment after it starts
        beat = heartbeat.last_beat()
        assert beat is not None and time.time() - beat < 10
        assert ping.delay().get(timeout=20) == "pong"
        worker_shutdown.send(sender=worker)

    assert _heartbeat_threads() == []


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_committed_reply_through_the_real_worker(real_broker, no_heartbeat, pg):
    from django.core import mail

    from channels_app.models import Delivery, DeliveryStatus
    from tests.factories import AgentFactory, CustomerFactory, IdentityFactory
    from tickets.services import message_reply, ticket_create

    customer = CustomerFactory()
    IdentityFactory(customer=customer, value="dana@example.com")
    ticket = ticket_create(customer=customer, subject="Where is it?", channel="email")
    agent = AgentFactory()

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        # Committed (transaction=True), so on_commit enqueues on the Redis broker for real.
        message = message_reply(ticket=ticket, author=agent, body_text="Shipped today.")
        delivery = Delivery.objects.get(message=message)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status == DeliveryStatus.SENT:
                break
            time.sleep(0.1)

    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]
