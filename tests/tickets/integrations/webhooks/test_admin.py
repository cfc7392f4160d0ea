"""The webhook admin: the secret shown once, the delivery log, the disabled notice and
the actions (test event, enable again, rotate the secret, replay failed deliveries)."""

import re

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tickets.integrations.models import Webhook, WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.webhooks.outbox import webhook_delivery_send, webhook_disable
from tickets.integrations.webhooks.services import webhook_send_test

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

LIST = "/admin/integrations/webhook/"
ADD = "/admin/integrations/webhook/add/"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


def _act(client, action, webhook):
    return client.post(LIST, {"action": action, "_selected_action": [webhook.pk]}, follow=True)


def test_adding_one_shows_its_secret_once(admin_client, receiver):
    from tests.factories import TeamFactory

    team = TeamFactory(name="Billing")
    response = admin_client.post(
        ADD, {"name": "CRM", "url": receiver.url, "events": ["ticket.created", "sla.breached"],
              "channels": ["sms"], "teams": [team.pk]},
        follow=True,
    )  # fmt: skip

    webhook = Webhook.objects.get()
    assert SECRET.search(response.content.decode()).group(0) == webhook.secret
    assert (webhook.channels, webhook.team_ids) == (["sms"], [team.pk])
    assert webhook.events == ["sla.breached", "ticket.created"]
    assert webhook.created_by.username == "root"
    later = admin_client.get(f"{LIST}{webhook.pk}/change/").content.decode()
    assert webhook.secret not in later and not SECRET.search(later)


def test_it_refuses_an_internal_url_with_the_reason(admin_client):
    response = admin_client.post(ADD, {"name": "x", "url": "https://127.0.0.1/h",
                                       "events": ["ticket.created"]})  # fmt: skip

    assert response.status_code == 200 and not Webhook.objects.exists()
    assert "internal address" in response.content.decode()


def test_the_change_page_lists_deliveries_and_says_why_it_was_disabled(admin_client, hook,
                                                                       receiver):  # fmt: skip
    receiver.script = [500]
    delivery = webhook_send_test(webhook=hook.webhook)
    webhook_delivery_send(delivery_id=delivery.pk)
    webhook_disable(webhook_id=hook.webhook.pk, reason="Disabled after 20 failed attempts.")

    page = admin_client.get(f"{LIST}{hook.webhook.pk}/change/").content.decode()
    listing = admin_client.get(LIST).content.decode()

    assert delivery.event_id in page and "The receiver answered 500." in page
    assert "was disabled on" in page and "Disabled after 20 failed attempts." in page
    assert "was disabled on" in listing
    log = admin_client.get(f"/admin/integrations/webhookdelivery/?webhook__id__exact="
                           f"{hook.webhook.pk}")  # fmt: skip
    assert log.status_code == 200 and delivery.event_id in log.content.decode()


def test_send_test_event(admin_client, hook, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(admin_client, "send_test", hook.webhook)

    assert "webhook.test event is on its way" in response.content.decode()
    [request] = receiver.received
    payload = Verifier(hook.secret).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test" and payload["data"]["sent_by"] == "root"


def test_enable_again(admin_client, hook, receiver, django_capture_on_commit_callbacks):
    waited = webhook_send_test(webhook=hook.webhook)
    webhook_disable(webhook_id=hook.webhook.pk, reason="Gone")
    with django_capture_on_commit_callbacks(execute=True):
        _act(admin_client, "enable", hook.webhook)

    webhook = Webhook.objects.get(pk=hook.webhook.pk)
    assert webhook.is_active and webhook.disabled_reason == ""
    assert WebhookDelivery.objects.get(pk=waited.pk).status == WebhookDeliveryStatus.DELIVERED


def test_rotate_the_secret_shows_the_new_one_once(admin_client, hook):
    response = _act(admin_client, "rotate_secret", hook.webhook)

    webhook = Webhook.objects.get(pk=hook.webhook.pk)
    assert SECRET.search(response.content.decode()).group(0) == webhook.secret != hook.secret
    assert webhook.previous_secret == hook.secret


def test_replay_failed_deliveries(admin_client, hook, receiver, django_capture_on_commit_callbacks):
    receiver.script = [400]
    delivery = webhook_send_test(webhook=hook.webhook)
    webhook_delivery_send(delivery_id=delivery.pk)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDeliveryStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        response = _act(admin_client, "replay_failed", hook.webhook)

    assert "1 failed deliveries are sent again" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED and delivery.attempts == 1
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.event_id] * 2


def test_a_change_is_audited_with_before_and_after_and_no_secret(admin_client, hook, receiver):
    from helpdesk.audit.models import AuditEntry

    new_url = receiver.url + "/v2"
    response = admin_client.post(
        f"{LIST}{hook.webhook.pk}/change/",
        {"name": "CRM", "url": new_url, "events": ["ticket.created"],
         "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.change")
    assert entry.before["url"] == receiver.url and entry.after["url"] == new_url
    assert hook.secret not in str(entry.before) + str(entry.after)
