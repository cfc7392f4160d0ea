from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from channels_app.delivery import (
    BACKOFF_SECONDS,
    delivery_relay,
    delivery_retry,
    delivery_send,
)
from channels_app.models import RESENT_NOTE, Delivery, DeliveryStatus
from channels_app.tasks import delivery_relay_task, delivery_send_task

pytestmark = pytest.mark.django_db


def _refresh(delivery):
    delivery.refresh_from_db()
    return delivery


def test_it_sends_once_when_the_task_runs_twice(queued):
    first = delivery_send_task.delay(queued.pk).get()
    second = delivery_send_task.delay(queued.pk).get()

    assert (first, second) == ("sent", "sent")
    assert len(mail.outbox) == 1
    delivery = _refresh(queued)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert delivery.provider_id == queued.message.rfc_message_id and delivery.sent_at


def test_it_enqueues_the_send_when_the_reply_commits(
    ticket, agent, django_capture_on_commit_callbacks
):
    from tickets.services import message_reply

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_reply(ticket=ticket, author=agent, body_text="Hi")
    assert mail.outbox == []  # nothing leaves before the commit

    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == f"Re: [#{ticket.number}] Broken zipper"
    assert sent.extra_headers["Message-ID"] == message.rfc_message_id


def test_it_leaves_a_visible_failed_delivery_when_the_server_refuses(queued, settings):
    settings.EMAIL_BACKEND = "tests.channels_app.backends.RefusingBackend"

    outcome = delivery_send(delivery_id=queued.pk)

    delivery = _refresh(queued)
    assert outcome.status == DeliveryStatus.FAILED
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "refused the address" in delivery.last_error and "No such user" in delivery.last_error
    # Failed for good: running the task again sends nothing and changes nothing.
    assert delivery_send_task.delay(queued.pk).get() == "failed"
    assert _refresh(queued).attempts == 1


@pytest.mark.parametrize("backend", ["DeferringBackend", "DownBackend"])
def test_it_requeues_a_temporary_error_with_backoff_then_gives_up(queued, settings, backend):
    settings.EMAIL_BACKEND = f"tests.channels_app.backends.{backend}"
    settings.HELPDESK_DELIVERY_MAX_ATTEMPTS = 3
    start = timezone.now()

    with time_machine.travel(start, tick=False) as clock:
        first = delivery_send(delivery_id=queued.pk)
        delivery = _refresh(queued)
        assert first.status == DeliveryStatus.QUEUED and first.retry_in == BACKOFF_SECONDS[0]
        assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
        assert delivery.next_attempt_at == start + timedelta(seconds=BACKOFF_SECONDS[0])
        assert delivery.last_error

        # Not due yet: a stray run does not send early.
        assert delivery_send(delivery_id=queued.pk).status == DeliveryStatus.QUEUED
        assert _refresh(queued).attempts == 1

        clock.shift(BACKOFF_SECONDS[0])
        second = delivery_send(delivery_id=queued.pk)
        assert second.retry_in == BACKOFF_SECONDS[1]
        clock.shift(BACKOFF_SECONDS[1])
        third = delivery_send(delivery_id=queued.pk)

    delivery = _refresh(queued)
    assert third.status == DeliveryStatus.FAILED
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert delivery.last_error.startswith("Gave up after 3 attempts")


def test_it_requeues_through_the_task_with_a_countdown_below_the_visibility_timeout(
    queued, settings
):
    settings.EMAIL_BACKEND = "tests.channels_app.backends.DeferringBackend"

    result = delivery_send_task.delay(queued.pk).get()

    assert result == DeliveryStatus.QUEUED
    assert _refresh(queued).attempts == 1
    assert max(BACKOFF_SECONDS) < settings.CELERY_VISIBILITY_TIMEOUT


def test_it_relays_a_delivery_whose_enqueue_was_lost(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets.services import message_reply

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as patch:
        patch.setattr(delivery_send_task, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            message = message_reply(ticket=ticket, author=agent, body_text="Hi")
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.QUEUED and mail.outbox == []

    # Within the minute the relay leaves it to the normal path; after it, it re-enqueues.
    assert delivery_relay() == 0
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=2)
    )
    assert delivery_relay_task.delay().get() == 1

    assert _refresh(delivery).status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1
    assert delivery_relay() == 0 and len(mail.outbox) == 1


def test_it_sends_again_a_delivery_cut_off_mid_send_with_the_same_message_id(queued):
    long_ago = timezone.now() - timedelta(minutes=20)
    recent = timezone.now() - timedelta(minutes=1)
    Delivery.objects.filter(pk=queued.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, updated_at=long_ago
    )
    other = Delivery.objects.create(
        message=queued.message,
        channel="email",
        recipient="b@example.com",
        status=DeliveryStatus.SENDING,
        updated_at=recent,
    )

    assert delivery_relay() == 1

    resent = _refresh(queued)
    assert resent.status == DeliveryStatus.SENT and resent.attempts == 2
    assert resent.last_error == RESENT_NOTE  # the agent sees why it may have gone twice
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [queued.message.rfc_message_id]
    assert _refresh(other).status == DeliveryStatus.SENDING  # may still be sending


def test_it_fails_a_delivery_cut_off_on_every_attempt_for_an_agent_to_check(queued, settings):
    long_ago = timezone.now() - timedelta(minutes=20)
    Delivery.objects.filter(pk=queued.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=settings.HELPDESK_DELIVERY_MAX_ATTEMPTS,
        updated_at=long_ago,
    )

    assert delivery_relay() == 0

    stuck = _refresh(queued)
    assert stuck.status == DeliveryStatus.FAILED
    assert "may or may not have gone out" in stuck.last_error
    assert mail.outbox == []


def test_it_gives_every_attempt_of_a_message_without_its_own_id_one_message_id(queued):
    from channels_app.email.sender import email_build

    queued.message.rfc_message_id = ""
    queued.message.save(update_fields=["rfc_message_id"])

    first, second = email_build(queued), email_build(queued)

    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"].startswith(f"<helpdesk.delivery.{queued.pk}@")


def test_it_does_no_double_relay_work_when_a_second_beat_ticks(queued):
    from helpdesk.lib.locks import single_run

    with single_run("delivery-relay", ttl=50) as acquired:
        assert acquired
        assert delivery_relay_task.delay().get() == 0


def test_it_retries_a_failed_delivery_on_request_with_fresh_attempts(
    queued, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.channels_app.backends.RefusingBackend"
    delivery_send(delivery_id=queued.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        delivery = delivery_retry(delivery=queued)

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert delivery.last_error == ""
    assert len(mail.outbox) == 1


def test_it_leaves_a_delivery_that_is_not_failed_alone_on_retry(
    queued, django_capture_on_commit_callbacks
):
    delivery_send(delivery_id=queued.pk)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery_retry(delivery=queued)

    assert callbacks == []
    assert len(mail.outbox) == 1


def test_it_fails_a_channel_with_no_sender_instead_of_looping(queued, monkeypatch):
    import dataclasses

    from channels_app import registry

    spec = registry.SPECS["email"]
    monkeypatch.setitem(registry.SPECS, "email", dataclasses.replace(spec, sender=None))

    outcome = delivery_send(delivery_id=queued.pk)

    assert outcome.status == DeliveryStatus.FAILED
    assert "No sender is configured for email" in _refresh(queued).last_error


def test_it_reports_a_missing_delivery_without_error():
    assert delivery_send(delivery_id=987654).status == "missing"


def test_it_shows_the_error_and_retries_from_the_admin(
    queued, settings, admin_client, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.channels_app.backends.RefusingBackend"
    delivery_send(delivery_id=queued.pk)
    page = admin_client.get(f"/admin/channels_app/delivery/{queued.pk}/change/").content.decode()
    assert "No such user" in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/channels_app/delivery/",
            {"action": "retry", "_selected_action": [queued.pk]},
            follow=True,
        )

    assert "1 delivery(ies) queued again." in response.content.decode()
    assert _refresh(queued).status == DeliveryStatus.SENT and len(mail.outbox) == 1


def test_it_shows_the_agent_a_delivery_sent_again_after_a_crash(queued, client, agent):
    Delivery.objects.filter(pk=queued.pk).update(status=DeliveryStatus.SENT, last_error=RESENT_NOTE)
    client.force_login(agent)

    page = client.get(f"/agent/tickets/{queued.message.ticket.number}/").content.decode()

    assert "Sent · resent" in page and RESENT_NOTE in page
