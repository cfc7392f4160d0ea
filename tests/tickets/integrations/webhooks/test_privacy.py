"""Erasing a customer erases them from the webhook outbox too: waiting deliveries about
them are not sent, and the log keeps no payload or answer that names them."""

import json

import pytest

from channels_app.ingest import inbound_message_ingest
from tickets.integrations.models import WebhookDelivery, WebhookDeliveryStatus
from tickets.integrations.webhooks.outbox import webhook_delivery_send, webhook_relay
from tickets.integrations.webhooks.privacy import ERASED_NOTE
from tickets.privacy import customer_erase

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

MARK = "zq9marker"


def test_it_leaves_no_trace_in_the_outbox_and_sends_nothing_more(
    hook, receiver, make_inbound, admin_user, customer
):
    result = inbound_message_ingest(
        message=make_inbound(external_id="m-1", name=f"Kim {MARK}", sender="kim@example.com",
                             subject=f"Lamp {MARK}", text=f"My lamp {MARK} is broken")
    )  # fmt: skip
    rows = WebhookDelivery.objects.filter(webhook=hook.webhook)
    first, *waiting = rows.order_by("id")
    receiver.script = [("echo", None)]
    webhook_delivery_send(delivery_id=first.pk)  # delivered: it stays in the log
    assert MARK in json.dumps(list(rows.values("payload")))
    other = inbound_message_ingest(message=make_inbound(external_id="m-2"))  # Dana's

    customer_erase(result.ticket.customer, actor=admin_user)

    for row in rows.filter(payload__data__erased=True):
        assert MARK not in json.dumps(row.payload) + row.last_response + row.last_error
        assert set(row.payload) == {"id", "type", "timestamp", "data"}
    assert rows.filter(payload__data__erased=True).count() == 1 + len(waiting)
    assert {r.status for r in rows.filter(pk__in=[w.pk for w in waiting])} == {
        WebhookDeliveryStatus.FAILED
    }
    assert rows.get(pk=waiting[0].pk).last_error == ERASED_NOTE
    assert MARK not in json.dumps(list(rows.values("payload", "last_response")))
    # Dana's deliveries are untouched and still go out.
    danas = rows.filter(payload__data__ticket__id=other.ticket.pk)
    assert danas and all("erased" not in d.payload["data"] for d in danas)
    rows.update(next_attempt_at="2000-01-01T00:00Z")
    webhook_relay()
    sent = [r.json["data"].get("ticket", {}).get("id") for r in receiver.received[1:]]
    assert set(sent) == {other.ticket.pk}
