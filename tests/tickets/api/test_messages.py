"""POST /api/v1/messages/ through a token: stored, then ingested; refusals in the error shape."""

import json

import pytest

from channels_app.models import RawInbound, RawStatus
from tickets.models import Message

pytestmark = pytest.mark.django_db

BODY = {"external_id": "shop-1", "from": {"email": "kim@example.com"}, "text": "Where is it?"}


def _post(client, body):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/api/v1/messages/", data, content_type="application/json")


def test_a_message_joins_the_customers_history_and_a_repeat_is_recognised(agent, token_client):
    client = token_client(agent, "tickets:write")

    first = _post(client, BODY)
    again = _post(client, BODY)

    assert first.status_code == 201 and first.json()["created_ticket"] is True
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["message"] == first.json()["message"]
    assert Message.objects.get().direction == "inbound"


def test_an_unreadable_payload_is_stored_quarantined_and_422(agent, token_client):
    response = _post(token_client(agent, "tickets:write"), {"text": "no sender"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable"
    assert RawInbound.objects.get().status == RawStatus.QUARANTINED


def test_an_oversized_body_is_413_before_it_is_stored(agent, token_client):
    response = _post(token_client(agent, "tickets:write"), {**BODY, "text": "x" * 1_100_000})

    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert not RawInbound.objects.exists()


def test_it_needs_the_write_scope(agent, token_client):
    response = _post(token_client(agent, "tickets:read"), BODY)

    assert response.status_code == 403 and "`tickets:write`" in response.json()["error"]["message"]
    assert not RawInbound.objects.exists()
