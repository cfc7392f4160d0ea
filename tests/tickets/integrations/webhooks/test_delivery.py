"""Deliveries to a real receiver: signed per Standard Webhooks, retried on 5xx and
timeouts, final on other 4xx, never following a redirect."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Verifier

from tickets.integrations.models import Webhook, WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.webhooks.outbox import webhook_delivery_send
from tickets.models import Channel
from tickets.services import ticket_create, ticket_set_priority

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _due_now(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def _send(delivery: WebhookDelivery) -> str:
    _due_now(delivery)
    return webhook_delivery_send(delivery_id=delivery.pk).status


def test_it_delivers_a_created_ticket_signed_as_the_standard_says(
    hook, receiver, customer, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(customer=customer, subject="Lamp broken", channel=Channel.EMAIL,
                               actor=agent)  # fmt: skip

    [request] = [r for r in receiver.received if r.json["type"] == "ticket.created"]
    payload = Verifier(hook.secret).verify(request.body, request.headers)
    assert payload["id"] == request.headers["webhook-id"]
    assert payload["data"]["ticket"]["number"] == ticket.number
    assert payload["data"]["ticket"]["subject"] == "Lamp broken"
    assert payload["data"]["ticket"]["customer"] == {"id": customer.pk, "name": "Dana Customer"}
    assert request.path == "/hooks/desk"
    assert request.headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get(event_id=payload["id"])
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert delivery.last_duration_ms is not None


def test_a_forged_signature_does_not_verify(hook, receiver, customer, agent,
                                            django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)

    request = receiver.received[0]
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Verifier(hook.secret).verify(request.body.replace(b"Lamp", b"Lump"), request.headers)
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(WebhookVerificationError):
        Verifier(other).verify(request.body, request.headers)


def test_an_update_carries_the_changed_fields_before_and_after(
    hook, receiver, customer, agent, django_capture_on_commit_callbacks
):
    ticket = ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_priority(ticket=ticket, priority="urgent", actor=agent)

    [update] = [r.json for r in receiver.received if r.json["type"] == "ticket.updated"]
    assert update["data"]["changes"] == {"priority": {"before": "normal", "after": "urgent"}}
    assert update["data"]["ticket"]["priority"] == "urgent"


def test_it_retries_a_500_and_a_timeout_then_delivers_with_the_same_id(
    hook, receiver, customer, agent, django_capture_on_commit_callbacks
):
    receiver.script = [500, ("slow", 2)]
    hook.webhook.events = ["ticket.created"]
    hook.webhook.save()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)
    delivery = WebhookDelivery.objects.get(webhook=hook.webhook)
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert (delivery.last_status_code, delivery.attempts) == (500, 1)
    assert delivery.next_attempt_at > timezone.now()
    assert "500" in delivery.last_error and delivery.last_response == "receiver says no"

    assert _send(delivery) == WebhookDeliveryStatus.PENDING  # the receiver is too slow
    delivery.refresh_from_db()
    assert "PostTimeout" in delivery.last_error and delivery.last_status_code is None

    assert _send(delivery) == WebhookDeliveryStatus.DELIVERED
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 3 and ids == {delivery.event_id}
    for request in receiver.received:
        Verifier(hook.secret).verify(request.body, request.headers)
    assert Webhook.objects.get(pk=hook.webhook.pk).failure_count == 0


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_these_answers_are_retried(hook, receiver, status):
    from tickets.integrations.webhooks.services import webhook_send_test

    receiver.script = [status]
    delivery = webhook_send_test(webhook=hook.webhook)
    assert webhook_delivery_send(delivery_id=delivery.pk).status == WebhookDeliveryStatus.PENDING


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_client_errors_are_final(hook, receiver, status):
    from tickets.integrations.webhooks.services import webhook_send_test

    receiver.script = [status]
    delivery = webhook_send_test(webhook=hook.webhook)
    assert webhook_delivery_send(delivery_id=delivery.pk).status == WebhookDeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert f"answered {status}" in delivery.last_error
    assert _send(delivery) == WebhookDeliveryStatus.FAILED  # never claimed again
    assert len(receiver.received) == 1


def test_a_410_gone_fails_the_delivery_and_disables_the_webhook(hook, receiver):
    from tickets.integrations.webhooks.services import webhook_send_test

    receiver.script = [410]
    delivery = webhook_send_test(webhook=hook.webhook)
    webhook_delivery_send(delivery_id=delivery.pk)

    webhook = Webhook.objects.get(pk=hook.webhook.pk)
    assert not webhook.is_active and "410" in webhook.disabled_reason


def test_a_redirect_is_not_followed(hook, receiver):
    from tickets.integrations.webhooks.services import webhook_send_test

    receiver.script = [("redirect", "http://169.254.169.254/latest/meta-data/")]
    delivery = webhook_send_test(webhook=hook.webhook)

    assert webhook_delivery_send(delivery_id=delivery.pk).status == WebhookDeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "redirects are not followed" in delivery.last_error
    assert "169.254.169.254" in delivery.last_error
    assert len(receiver.received) == 1


def test_it_gives_up_once_the_retry_window_is_over(hook, receiver):
    from tickets.integrations.webhooks.services import webhook_send_test

    receiver.script = [500]
    delivery = webhook_send_test(webhook=hook.webhook)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        give_up_at=timezone.now() + timedelta(seconds=5)
    )

    assert webhook_delivery_send(delivery_id=delivery.pk).status == WebhookDeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Gave up after 1 attempts")


def test_an_internal_note_is_a_message_created_marked_internal(
    hook, receiver, customer, agent, django_capture_on_commit_callbacks
):
    from tickets.services import message_reply

    ticket = ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        message_reply(ticket=ticket, author=agent, body_text="Call them back", is_internal=True)

    [created] = [r.json for r in receiver.received if r.json["type"] == "message.created"]
    message = created["data"]["message"]
    assert (message["internal"], message["direction"], message["text"]) == (
        True, "outbound", "Call them back",
    )  # fmt: skip
    assert created["data"]["ticket"]["number"] == ticket.number
    assert message["author"]["username"] == agent.username


def test_nothing_is_written_when_the_change_rolls_back(hook, customer, agent):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_create(customer=customer, subject="Lamp", channel=Channel.EMAIL, actor=agent)
        assert WebhookDelivery.objects.exists()
        raise RuntimeError("the change fails after the event")

    assert not WebhookDelivery.objects.exists()
