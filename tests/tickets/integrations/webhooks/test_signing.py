"""The secret: whsec_ form, rotated with a grace period in which both secrets verify."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from tickets.integrations.models import Webhook
from tickets.integrations.webhooks.outbox import webhook_delivery_send
from tickets.integrations.webhooks.services import webhook_secret_rotate, webhook_send_test
from tickets.integrations.webhooks.signing import signature

pytestmark = pytest.mark.django_db


def test_the_signature_matches_the_specifications_example():
    # The example of the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signature(secret=secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330,
                     body=body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="  # fmt: skip


def test_after_a_rotation_both_secrets_verify_until_the_grace_ends(hook, receiver):
    old = hook.secret
    new = webhook_secret_rotate(webhook=hook.webhook).secret
    assert new != old and new.startswith("whsec_")

    webhook_delivery_send(delivery_id=webhook_send_test(webhook=hook.webhook).pk)
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Verifier(new).verify(request.body, request.headers)
    Verifier(old).verify(request.body, request.headers)

    Webhook.objects.filter(pk=hook.webhook.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    webhook_delivery_send(delivery_id=webhook_send_test(webhook=hook.webhook).pk)
    request = receiver.received[-1]
    Verifier(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(old).verify(request.body, request.headers)


def test_the_verification_snippet_in_the_docs_verifies_a_real_delivery(hook, receiver):
    from pathlib import Path

    docs = Path(__file__).resolve().parents[4] / "docs" / "api.md"
    blocks = docs.read_text().split("```python\n")
    snippet = next(b.split("```")[0] for b in blocks if b.startswith("import base64"))
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 (our own documentation)
    verify = namespace["verify"]

    webhook_delivery_send(delivery_id=webhook_send_test(webhook=hook.webhook).pk)
    request = receiver.received[-1]

    assert verify(hook.secret, request.headers, request.body)
    assert not verify(hook.secret, request.headers, request.body + b" ")
    stale = {
        **request.headers,
        "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 600),
    }
    assert not verify(hook.secret, stale, request.body)
