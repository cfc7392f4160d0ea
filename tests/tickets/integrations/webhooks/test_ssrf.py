"""Webhooks call public https URLs only, checked when saved and again at every attempt,
and connect to the address that was checked."""

import pytest

from helpdesk.lib.http import post_pinned
from helpdesk.lib.ssrf import VettedUrl
from tickets.integrations.models import Webhook, WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.webhooks.outbox import webhook_delivery_send
from tickets.integrations.webhooks.services import WebhookError, webhook_create, webhook_send_test

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com/hook", "Only https URLs"),
        ("https://127.0.0.1/hook", "internal address"),
        ("https://localhost:8443/hook", "internal address"),
        ("https://10.1.2.3/hook", "internal address"),
        ("https://169.254.169.254/latest/meta-data/", "internal address"),
        ("https://[::1]/hook", "internal address"),
        ("https://user:pw@example.com/hook", "credentials"),
    ],
)
def test_it_refuses_to_save_a_url_that_is_not_public_https(url, problem):
    with pytest.raises(WebhookError, match=problem):
        webhook_create(name="Bad", url=url, events=["ticket.created"])
    assert not Webhook.objects.exists()


def test_a_url_that_turned_private_is_refused_at_send_time(settings, receiver):
    hook = webhook_create(name="Dev", url=receiver.url, events=["ticket.created"])
    delivery = webhook_send_test(webhook=hook.webhook)
    settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE = False

    outcome = webhook_delivery_send(delivery_id=delivery.pk)

    assert outcome.status == WebhookDeliveryStatus.FAILED
    assert "Refused to call this URL" in WebhookDelivery.objects.get(pk=delivery.pk).last_error
    assert receiver.received == []


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(receiver):
    # A name that does not resolve at all: only the pinned address can be reached.
    target = VettedUrl("http", "hooks.example.invalid", receiver.port, "/pinned?x=1",
                       ("127.0.0.1",))  # fmt: skip

    answer = post_pinned(target, body=b"{}", headers={}, connect_timeout=2, read_timeout=2,
                         max_answer_bytes=4)  # fmt: skip

    assert answer.status == 200 and answer.body == b'{"ok'  # the answer is cut at the cap
    [request] = receiver.received
    assert request.path == "/pinned?x=1"
    assert request.headers["host"].startswith("hooks.example.invalid")


def test_https_goes_to_the_pinned_address_and_verifies_the_certificate(receiver):
    import ssl

    # The receiver speaks plain HTTP: the TLS handshake to the pinned address fails, and
    # nothing is sent in the clear.
    target = VettedUrl("https", "hooks.example.invalid", receiver.port, "/", ("127.0.0.1",))

    with pytest.raises(ssl.SSLError):
        post_pinned(target, body=b"{}", headers={}, connect_timeout=2, read_timeout=2,
                    max_answer_bytes=64)  # fmt: skip
    assert receiver.received == []
