"""A webhook answers 2xx once its payload is stored, even when processing it then fails
(the retry of stale payloads processes it later), and 5xx only when nothing was stored,
so the provider sends it again."""

from urllib.parse import urlencode

import pytest
from django.db import OperationalError
from django.test import Client
from twilio.request_validator import RequestValidator

from channels_app import ingest
from channels_app.models import RawInbound, RawStatus, SmsNumber
from channels_app.sms import services as sms
from tests.factories import AgentFactory
from tickets.models import Channel, Message

pytestmark = pytest.mark.django_db

PUBLIC = "https://desk.example.com"
TOKEN = "stored-then-failed-token"
OUR_NUMBER = "+14155550100"


@pytest.fixture
def number(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    return SmsNumber.objects.create(phone=OUR_NUMBER, account_sid="AC" + "2" * 32, auth_token=TOKEN)


def _post_sms(client, sid="SM" + "b" * 32):
    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "2" * 32,
        "From": "+14155550123",
        "To": OUR_NUMBER,
        "Body": "Are you there?",
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}/hooks/twilio/sms/", params)
    return client.post(
        "/hooks/twilio/sms/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def _ingest_fails(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def test_it_answers_twilio_200_when_the_sms_is_stored_but_processing_fails(number, monkeypatch):
    monkeypatch.setattr(ingest, "inbound_message_ingest", _ingest_fails)

    response = _post_sms(Client())

    assert response.status_code == 200
    raw = RawInbound.objects.get(channel=Channel.SMS)
    assert raw.status == RawStatus.RECEIVED  # left for the retry of stale payloads
    monkeypatch.undo()
    ingest.raw_inbound_process(raw_id=raw.pk)
    assert Message.objects.filter(channel=Channel.SMS, external_id="SM" + "b" * 32).count() == 1


def test_it_answers_twilio_500_when_nothing_could_be_stored(number, monkeypatch):
    def store_fails(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(sms, "raw_inbound_store", store_fails)

    response = _post_sms(Client(raise_request_exception=False))

    assert response.status_code == 500
    assert not RawInbound.objects.exists()


def test_it_answers_the_api_202_when_the_message_is_stored_but_processing_fails(monkeypatch):
    monkeypatch.setattr(ingest, "inbound_message_ingest", _ingest_fails)
    client = Client()
    client.force_login(AgentFactory())

    response = client.post(
        "/api/v1/messages/",
        {"external_id": "crm-9", "from": {"email": "crm@example.com"}, "text": "Hello"},
        content_type="application/json",
    )

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "received" and "retried" in body["message"]
    assert RawInbound.objects.get(pk=body["payload"]).status == RawStatus.RECEIVED
