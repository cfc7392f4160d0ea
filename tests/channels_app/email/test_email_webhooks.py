"""HTTP ways in: the raw-MIME hook (shared secret) and anymail's ESP inbound webhooks
(Mailgun HMAC signature, Postmark and SendGrid basic auth), with real-shaped payloads."""

import base64
import hashlib
import hmac
import json

import pytest

from channels_app.models import RawInbound
from tests.channels_app.email.conftest import eml
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

RAW_URL = "/hooks/email/raw/"
SECRET = "s3cret-value"


@pytest.fixture
def anymail(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ["hooks:pa55"], "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    return settings.ANYMAIL


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# --- raw MIME -----------------------------------------------------------------------------


def test_it_stores_and_processes_raw_mime_with_the_right_secret(client, settings, mailbox):
    settings.HELPDESK_RAW_EMAIL_SECRET = SECRET

    response = client.post(
        RAW_URL,
        data=eml("plain_encoded_words.eml"),
        content_type="message/rfc822",
        headers={"X-Helpdesk-Secret": SECRET, "X-Envelope-Recipient": "support@helpdesk.test"},
    )

    assert response.status_code == 202
    raw = RawInbound.objects.get(pk=response.json()["stored"])
    assert raw.source == "hook:raw" and raw.meta["mailbox_id"] == str(mailbox.pk)
    assert Ticket.objects.get().subject == "Bestellung für Größe 42"


@pytest.mark.parametrize("given", ["", "wrong", SECRET + "x"])
def test_it_refuses_raw_mime_with_a_bad_secret(client, settings, given):
    settings.HELPDESK_RAW_EMAIL_SECRET = SECRET

    response = client.post(
        RAW_URL,
        data=eml("alternative.eml"),
        content_type="message/rfc822",
        headers={"X-Helpdesk-Secret": given},
    )

    assert response.status_code == 403
    assert "X-Helpdesk-Secret" in response.json()["error"]
    assert not RawInbound.objects.exists()


def test_it_refuses_raw_mime_when_no_secret_is_configured(client, settings):
    settings.HELPDESK_RAW_EMAIL_SECRET = ""

    response = client.post(
        RAW_URL, data=b"x", content_type="message/rfc822", headers={"X-Helpdesk-Secret": ""}
    )

    assert response.status_code == 403


def test_it_rejects_an_empty_body(client, settings):
    settings.HELPDESK_RAW_EMAIL_SECRET = SECRET

    response = client.post(
        RAW_URL, data=b"  ", content_type="message/rfc822", headers={"X-Helpdesk-Secret": SECRET}
    )

    assert response.status_code == 400 and not RawInbound.objects.exists()


# --- Mailgun --------------------------------------------------------------------------------


def mailgun_form(signing_key: str, *, token: str = "tok" * 10, timestamp: str = "1764000000"):
    signature = hmac.new(
        signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "body-mime": eml("alternative.eml").decode(),
        "recipient": "support@helpdesk.test",
        "sender": "dana@example.com",
        "token": token,
        "timestamp": timestamp,
        "signature": signature,
    }


def test_it_accepts_a_signed_mailgun_inbound_post(client, anymail, mailbox):
    response = client.post(
        "/hooks/anymail/mailgun/inbound_mime/",
        data=mailgun_form("mg-key"),
        headers={"Authorization": basic("hooks:pa55")},
    )

    assert response.status_code == 200
    raw = RawInbound.objects.get()
    assert raw.source == "hook:mailgun" and raw.meta["mailbox_id"] == str(mailbox.pk)
    assert Message.objects.get().rfc_message_id == "<alt-1@example.com>"


def test_it_refuses_a_mailgun_post_with_a_forged_signature(client, anymail):
    response = client.post(
        "/hooks/anymail/mailgun/inbound_mime/",
        data=mailgun_form("not-the-key"),
        headers={"Authorization": basic("hooks:pa55")},
    )

    assert response.status_code == 400
    assert not RawInbound.objects.exists()


def test_it_refuses_mailgun_when_no_signing_key_is_configured(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ["hooks:pa55"]}

    response = client.post("/hooks/anymail/mailgun/inbound/", data=mailgun_form(""))

    assert response.status_code == 403
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in response.json()["error"]


# --- Postmark -------------------------------------------------------------------------------


def postmark_payload() -> str:
    return json.dumps(
        {
            "FromFull": {"Email": "erin@example.com", "Name": "Erin"},
            "ToFull": [{"Email": "support@helpdesk.test", "Name": ""}],
            "CcFull": [],
            "Subject": "Postmark hello",
            "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
            "Date": "Tue, 24 Nov 2026 10:00:00 +0000",
            "TextBody": "Sent through Postmark.",
            "HtmlBody": "<p>Sent through <b>Postmark</b>.</p>",
            "Headers": [{"Name": "Message-ID", "Value": "<pm-1@example.com>"}],
            "Attachments": [],
            "OriginalRecipient": "support@helpdesk.test",
        }
    )


def test_it_accepts_a_postmark_inbound_post_with_basic_auth(client, anymail, mailbox):
    response = client.post(
        "/hooks/anymail/postmark/inbound/",
        data=postmark_payload(),
        content_type="application/json",
        headers={"Authorization": basic("hooks:pa55")},
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.ticket.subject == "Postmark hello"
    assert message.body_text == "Sent through Postmark."
    assert RawInbound.objects.get().source == "hook:postmark"


def test_it_refuses_a_postmark_post_with_forged_credentials(client, anymail):
    response = client.post(
        "/hooks/anymail/postmark/inbound/",
        data=postmark_payload(),
        content_type="application/json",
        headers={"Authorization": basic("hooks:guess")},
    )

    assert response.status_code == 400 and not RawInbound.objects.exists()


def test_it_refuses_esp_posts_when_no_webhook_secret_is_configured(client, settings):
    settings.ANYMAIL = {}

    response = client.post(
        "/hooks/anymail/postmark/inbound/", data=postmark_payload(), content_type="application/json"
    )

    assert response.status_code == 403 and not RawInbound.objects.exists()


# --- SendGrid -------------------------------------------------------------------------------


def sendgrid_form() -> dict[str, str]:
    return {
        "email": eml("attachments.eml").decode(),
        "envelope": json.dumps({"to": ["support@helpdesk.test"], "from": "frank@example.com"}),
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        "spam_score": "0.1",
    }


def test_it_accepts_a_sendgrid_raw_mime_post_with_basic_auth(client, anymail, mailbox):
    response = client.post(
        "/hooks/anymail/sendgrid/inbound/",
        data=sendgrid_form(),
        headers={"Authorization": basic("hooks:pa55")},
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.ticket.subject == "Invoice attached"
    assert sorted(message.attachments.values_list("filename", flat=True)) == [
        "Résumé final.txt",
        "passwd.pdf",
    ]


def test_it_refuses_a_sendgrid_post_without_credentials(client, anymail):
    response = client.post("/hooks/anymail/sendgrid/inbound/", data=sendgrid_form())

    assert response.status_code == 400 and not RawInbound.objects.exists()


# --- ESP tracking ---------------------------------------------------------------------------


def postmark_bounce(message_id: str) -> str:
    return json.dumps(
        {
            "RecordType": "Bounce",
            "ID": 42,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Tag": "",
            "MessageID": message_id,
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Details": "smtp;550 5.1.1 User unknown",
            "Email": "dana@example.com",
            "From": "support@helpdesk.test",
            "BouncedAt": "2026-11-24T16:33:54.9070259Z",
            "Inactive": True,
            "CanActivate": True,
            "Subject": "Re: [#1001] Help",
            "ServerID": 23,
            "MessageStream": "outbound",
            "Metadata": {},
        }
    )


def test_it_marks_a_delivery_bounced_from_a_postmark_bounce_event(
    client, anymail, deliver, mailbox, agent
):
    from channels_app.models import Delivery, DeliveryStatus
    from tickets.services import message_reply

    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)
    reply = message_reply(ticket=first.ticket, author=agent, body_text="Answer")
    provider_id = "883953f4-6105-42a2-a16a-77a8eac79483"
    Delivery.objects.filter(message=reply).update(
        status=DeliveryStatus.SENT, provider_id=provider_id
    )

    response = client.post(
        "/hooks/anymail/postmark/tracking/",
        data=postmark_bounce(provider_id),
        content_type="application/json",
        headers={"Authorization": basic("hooks:pa55")},
    )

    assert response.status_code == 200
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.BOUNCED
    assert "unknown user" in delivery.last_error


def test_it_ignores_a_tracking_event_with_forged_credentials(client, anymail):
    response = client.post(
        "/hooks/anymail/postmark/tracking/",
        data=postmark_bounce("x"),
        content_type="application/json",
        headers={"Authorization": basic("hooks:nope")},
    )

    assert response.status_code == 400


def test_it_takes_raw_mime_larger_than_djangos_in_memory_limit(client, settings, mailbox):
    settings.HELPDESK_RAW_EMAIL_SECRET = SECRET
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = (
        b"From: big@example.com\r\nSubject: Big\r\nMessage-ID: <big@example.com>\r\n\r\n"
        + b"line of text\r\n" * 200_000
    )

    response = client.post(
        RAW_URL, data=big, content_type="message/rfc822", headers={"X-Helpdesk-Secret": SECRET}
    )

    assert response.status_code == 202
    assert Message.objects.get().rfc_message_id == "<big@example.com>"


def test_it_refuses_raw_mime_over_the_inbound_limit_before_reading_it(client, settings):
    settings.HELPDESK_RAW_EMAIL_SECRET = SECRET
    settings.HELPDESK_INBOUND_MAX_BYTES = 1024 * 1024
    big = b"From: big@example.com\r\nSubject: Big\r\n\r\n" + b"x" * (1024 * 1024)

    response = client.post(
        RAW_URL, data=big, content_type="message/rfc822", headers={"X-Helpdesk-Secret": SECRET}
    )

    assert response.status_code == 413
    assert "Nothing was stored" in response.json()["error"]
    assert not RawInbound.objects.exists()


def test_it_caps_what_it_reads_when_no_length_is_declared():
    from io import BytesIO

    from django.http import HttpRequest

    from helpdesk.lib.http import BodyTooLarge, body_read_bounded

    class Streamed(HttpRequest):
        def __init__(self, data: bytes) -> None:
            super().__init__()
            self._stream = BytesIO(data)
            self._read_started = False

    assert body_read_bounded(Streamed(b"x" * 10), limit=10) == b"x" * 10
    with pytest.raises(BodyTooLarge):
        body_read_bounded(Streamed(b"x" * 11), limit=10)
