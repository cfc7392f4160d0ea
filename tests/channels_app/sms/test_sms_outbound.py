import pytest
from django.utils import timezone

from channels_app.delivery import delivery_send
from channels_app.models import Delivery, DeliveryStatus
from tests.channels_app.sms.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_PHONE,
    OUR_NUMBER,
    PUBLIC,
)
from tests.factories import IdentityFactory, TicketFactory
from tickets.errors import TicketError
from tickets.models import Channel, ContactIdentity, IdentityKind, Message
from tickets.services import message_reply

pytestmark = pytest.mark.django_db
STATUS_HOOK = "/hooks/twilio/status/"


@pytest.fixture
def sms_ticket(sms_number, customer):
    IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=CUSTOMER_PHONE)
    return TicketFactory(customer=customer, channel=Channel.SMS, team=sms_number.team)


def reply(ticket, agent, text, capture):
    with capture(execute=True):
        message = message_reply(ticket=ticket, author=agent, body_text=text, channel=Channel.SMS)
    return Delivery.objects.get(message=message)


def test_it_sends_a_reply_through_the_provider_with_auth_and_a_status_callback(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    delivery = reply(
        sms_ticket, agent, "Your parcel ships today.", django_capture_on_commit_callbacks
    )

    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_id == "SM" + "0" * 31 + "1"
    (request,) = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form["To"] == CUSTOMER_PHONE
    assert request.form["From"] == OUR_NUMBER
    assert request.form["Body"] == "Your parcel ships today."
    assert request.form["StatusCallback"] == f"{PUBLIC}{STATUS_HOOK}"


def test_it_sends_a_long_text_as_one_message(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    text = "Long answer. " * 100  # 1300 characters: the provider segments it

    delivery = reply(sms_ticket, agent, text, django_capture_on_commit_callbacks)

    assert delivery.status == DeliveryStatus.SENT
    assert len(fake_twilio.requests) == 1
    assert fake_twilio.requests[0].form["Body"] == text.strip()


def test_it_fails_a_text_too_long_for_one_message_with_a_reason(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    delivery = reply(sms_ticket, agent, "x" * 1700, django_capture_on_commit_callbacks)

    assert delivery.status == DeliveryStatus.FAILED
    assert "1600" in delivery.last_error and "email" in delivery.last_error
    assert fake_twilio.requests == []


def test_it_retries_later_when_the_provider_is_down(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks, settings
):
    fake_twilio.status = 503
    fake_twilio.error = {"code": 20500, "message": "Internal error", "status": 503}
    with django_capture_on_commit_callbacks(execute=False):
        message = message_reply(
            ticket=sms_ticket, author=agent, body_text="hello", channel=Channel.SMS
        )
    delivery = Delivery.objects.get(message=message)

    outcome = delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.retry_in is not None
    assert delivery.status == DeliveryStatus.QUEUED
    assert "503" in delivery.last_error


def test_it_fails_for_good_when_the_provider_rejects_the_number(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    fake_twilio.status = 400
    fake_twilio.error = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}

    delivery = reply(sms_ticket, agent, "hello", django_capture_on_commit_callbacks)

    assert delivery.status == DeliveryStatus.FAILED
    assert "21211" in delivery.last_error and "Invalid 'To'" in delivery.last_error


def test_it_refuses_a_reply_to_an_opted_out_number_before_writing_anything(
    sms_ticket, agent, fake_twilio
):
    ContactIdentity.objects.filter(kind=IdentityKind.PHONE).update(opted_out_at=timezone.now())

    with pytest.raises(TicketError, match="opted out") as exc:
        message_reply(ticket=sms_ticket, author=agent, body_text="hello", channel=Channel.SMS)

    assert "email" in exc.value.message
    assert Message.objects.count() == 0 and Delivery.objects.count() == 0
    assert fake_twilio.requests == []


def test_it_never_sends_a_queued_text_to_a_number_that_opted_out_meanwhile(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        message = message_reply(
            ticket=sms_ticket, author=agent, body_text="hello", channel=Channel.SMS
        )
    ContactIdentity.objects.filter(kind=IdentityKind.PHONE).update(opted_out_at=timezone.now())

    delivery_send(delivery_id=Delivery.objects.get(message=message).pk)

    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.FAILED
    assert "opted out" in delivery.last_error and "START" in delivery.last_error
    assert fake_twilio.requests == []


def test_it_marks_the_number_opted_out_when_the_provider_says_unsubscribed(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    fake_twilio.status = 400
    fake_twilio.error = {"code": 21610, "message": "Unsubscribed recipient", "status": 400}

    delivery = reply(sms_ticket, agent, "hello", django_capture_on_commit_callbacks)

    assert delivery.status == DeliveryStatus.FAILED and "opted out" in delivery.last_error
    assert ContactIdentity.objects.get(kind=IdentityKind.PHONE).opted_out_at is not None


# --- status callbacks --------------------------------------------------------------------


@pytest.fixture
def sent_delivery(sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks):
    return reply(sms_ticket, agent, "hello", django_capture_on_commit_callbacks)


def status_form(delivery, status, **extra):
    return {
        "MessageSid": delivery.provider_id,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": OUR_NUMBER,
        "To": CUSTOMER_PHONE,
        **extra,
    }


def test_it_marks_a_delivery_delivered_on_the_callback(sent_delivery, post_signed):
    response = post_signed(STATUS_HOOK, status_form(sent_delivery, "delivered"))

    assert response.status_code == 204
    sent_delivery.refresh_from_db()
    assert sent_delivery.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    ("status", "expected"),
    [("failed", DeliveryStatus.FAILED), ("undelivered", DeliveryStatus.UNDELIVERED)],
)
def test_it_records_a_carrier_failure_with_its_error_code(
    sent_delivery, post_signed, status, expected
):
    post_signed(STATUS_HOOK, status_form(sent_delivery, status, ErrorCode="30003"))

    sent_delivery.refresh_from_db()
    assert sent_delivery.status == expected
    assert "30003" in sent_delivery.last_error


def test_it_moves_through_sent_then_delivered_and_ignores_a_late_sent(sent_delivery, post_signed):
    for status in ("queued", "sent", "delivered", "sent"):
        post_signed(STATUS_HOOK, status_form(sent_delivery, status))

    sent_delivery.refresh_from_db()
    assert sent_delivery.status == DeliveryStatus.DELIVERED


def test_it_refuses_a_forged_status_callback(sent_delivery, post_signed):
    response = post_signed(STATUS_HOOK, status_form(sent_delivery, "failed"), token="forged-token")

    assert response.status_code == 403
    sent_delivery.refresh_from_db()
    assert sent_delivery.status == DeliveryStatus.SENT


def test_it_accepts_a_callback_for_a_message_it_does_not_know(sms_number, post_signed):
    params = {
        "MessageSid": "SMunknown",
        "MessageStatus": "delivered",
        "AccountSid": ACCOUNT_SID,
        "From": OUR_NUMBER,
    }

    assert post_signed(STATUS_HOOK, params).status_code == 204


def test_it_replies_from_the_number_the_customer_texted(
    sms_number, post_signed, agent, fake_twilio, django_capture_on_commit_callbacks
):
    from channels_app.models import SmsNumber
    from tests.channels_app.sms.conftest import sms_form

    second = SmsNumber.objects.create(
        phone="+14155550101", account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, team=sms_number.team
    )
    post_signed("/hooks/twilio/sms/", sms_form("hi", to=second.phone))
    ticket = Message.objects.get().ticket

    with django_capture_on_commit_callbacks(execute=True):
        message_reply(ticket=ticket, author=agent, body_text="hello", channel=Channel.SMS)

    assert fake_twilio.requests[0].form["From"] == second.phone


def _cut_off_mid_send(delivery):
    """As a worker killed after (or before) the provider took the text leaves it."""
    from datetime import timedelta

    from django.conf import settings

    stale = timedelta(seconds=settings.HELPDESK_DELIVERY_STALE_AFTER + 1)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, provider_id="", updated_at=timezone.now() - stale
    )


def test_it_does_not_text_twice_when_the_provider_already_has_a_cut_off_send(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    from channels_app.delivery import delivery_relay
    from channels_app.models import RESENT_NOTE

    delivery = reply(sms_ticket, agent, "Ships today.", django_capture_on_commit_callbacks)
    first_sid = delivery.provider_id
    _cut_off_mid_send(delivery)  # the provider took it; the worker died before recording

    delivery_relay()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_id == first_sid
    assert delivery.last_error == RESENT_NOTE
    posts = [r for r in fake_twilio.requests if r.method == "POST"]
    assert len(posts) == 1
    (listing,) = [r for r in fake_twilio.requests if r.method == "GET"]
    assert "To=%2B14155550199" in listing.path and "From=%2B14155550100" in listing.path


def test_it_texts_a_cut_off_send_the_provider_never_got(
    sms_ticket, agent, fake_twilio, django_capture_on_commit_callbacks
):
    from channels_app.delivery import delivery_relay

    delivery = reply(sms_ticket, agent, "Ships today.", django_capture_on_commit_callbacks)
    _cut_off_mid_send(delivery)
    fake_twilio.sent.clear()  # the worker died before the provider took it

    delivery_relay()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert [r.form["Body"] for r in fake_twilio.requests if r.method == "POST"] == [
        "Ships today.",
        "Ships today.",
    ]  # the first attempt (lost before the provider) and the resend
