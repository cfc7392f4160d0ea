"""Input a client controls stays bounded on the ways in: a date outside the sane range
(a message's received_at, a page link's time) is a clear client error (never a 500,
never stored as a message's time), and an
oversized body on any hook is refused with 413 by its size, with nothing stored."""

import base64
import json

import pytest
from twilio.request_validator import RequestValidator

from channels_app.models import RawInbound, RawStatus, SmsNumber
from helpdesk.lib.urls import absolute_url
from tickets.models import Message
from tickets.selectors import InvalidCursor, ticket_list

pytestmark = pytest.mark.django_db

BODY = {"external_id": "crm-1", "from": {"email": "kim@example.com"}, "text": "Hello."}


def _post(client, body):
    return client.post("/api/v1/messages/", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "when",
    ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+05:00", "2026-02-30T10:00:00+00:00"],
)
def test_an_api_message_with_a_received_at_out_of_range_is_refused(agent, client, when):
    client.force_login(agent)
    response = _post(client, {**BODY, "received_at": when})

    assert response.status_code == 422, response.content
    assert "received_at" in response.json()["error"]["message"]
    assert RawInbound.objects.get().status == RawStatus.QUARANTINED
    assert not Message.objects.exists()


def test_an_api_message_with_a_received_at_in_range_keeps_it(agent, client):
    client.force_login(agent)
    response = _post(client, {**BODY, "received_at": "2026-03-01T09:30:00+01:00"})

    assert response.status_code == 201
    assert Message.objects.get().created_at.isoformat() == "2026-03-01T08:30:00+00:00"


SMS_TOKEN = "bounded-sms-token"
OUR_NUMBER = "+14155550100"


def _twilio_form(client, path: str, params: dict[str, str], **extra: str):
    url = absolute_url(path)  # as Twilio called it: the public base URL
    signature = RequestValidator(SMS_TOKEN).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


@pytest.mark.parametrize(
    "path",
    ["/hooks/email/raw/", "/hooks/twilio/sms/", "/hooks/anymail/postmark/inbound/",
     "/internal/layer-relay"],
)  # fmt: skip
def test_a_hook_refuses_a_body_declared_too_large_before_reading_it(client, settings, path):
    settings.HELPDESK_INBOUND_MAX_BYTES = 10_000
    # The body sent is small: only the declared length can have refused it.
    response = client.post(
        path, b"x" * 100, content_type="message/rfc822", CONTENT_LENGTH="50000000"
    )

    assert response.status_code == 413
    assert "Nothing was stored" in response.json()["error"]
    assert not RawInbound.objects.exists()


def test_an_sms_webhook_over_the_form_limit_is_413_and_stores_nothing(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    SmsNumber.objects.create(phone=OUR_NUMBER, account_sid="AC" + "1" * 32, auth_token=SMS_TOKEN)
    params = {"MessageSid": "SM1", "From": "+14155550199", "To": OUR_NUMBER, "Body": "x" * 5000}

    response = _twilio_form(client, "/hooks/twilio/sms/", params)

    assert response.status_code == 413
    assert "2 MB" not in response.json()["error"]  # the limit as it is, not rounded
    assert not RawInbound.objects.exists() and not Message.objects.exists()


def test_an_sms_webhook_within_the_limits_is_stored(client, settings):
    SmsNumber.objects.create(phone=OUR_NUMBER, account_sid="AC" + "1" * 32, auth_token=SMS_TOKEN)
    params = {"MessageSid": "SM2", "From": "+14155550199", "To": OUR_NUMBER, "Body": "Hi"}

    response = _twilio_form(client, "/hooks/twilio/sms/", params)

    assert response.status_code == 200
    assert RawInbound.objects.get().channel == "sms"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "raw"),
    [
        ("updated", "0001-01-01T00:00:00+05:00|7"),
        ("updated", "9999-12-31T23:59:59-05:00|7"),
        ("created", "created|0001-01-01T00:00:00+05:00|7"),
        ("priority", "priority|2|9999-12-31T23:59:59-05:00|7"),
        ("sla", "sla|0001-01-01T00:00:00+05:00|7"),
    ],
)
def test_a_page_link_with_a_time_out_of_range_is_an_invalid_link(sort, raw):
    with pytest.raises(InvalidCursor):
        ticket_list(cursor=_cursor(raw), sort=sort)


def test_the_api_answers_400_for_a_page_link_out_of_range(agent, client):
    client.force_login(agent)
    response = client.get("/api/v1/tickets/", {"cursor": _cursor("0001-01-01T00:00:00+05:00|7")})

    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_a_page_link_in_range_still_pages(agent):
    assert ticket_list(cursor=_cursor("2026-03-01T08:30:00+00:00|7")).items == []
