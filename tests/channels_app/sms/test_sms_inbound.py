import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from channels_app.models import RawInbound, RawStatus
from tests.channels_app.sms.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_PHONE,
    OUR_NUMBER,
    PUBLIC,
    sign,
    sms_form,
)
from tests.factories import IdentityFactory, TicketFactory
from tickets.errors import TicketError
from tickets.identity import normalize_phone
from tickets.models import Channel, ContactIdentity, IdentityKind, Message, Status, Ticket

pytestmark = pytest.mark.django_db
HOOK = "/hooks/twilio/sms/"


def test_it_accepts_a_signed_sms_and_opens_a_ticket_on_the_numbers_team(sms_number, post_signed):
    response = post_signed(HOOK, sms_form("Hi, my parcel is late"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response></Response>")
    message = Message.objects.select_related("ticket", "author_identity").get()
    assert message.channel == Channel.SMS
    assert message.external_id == "SM" + "a" * 32
    assert message.body_text == "Hi, my parcel is late"
    assert message.author_identity.kind == IdentityKind.PHONE
    assert message.author_identity.value == CUSTOMER_PHONE
    assert message.ticket.team_id == sms_number.team_id
    assert message.ticket.channel == Channel.SMS
    raw = RawInbound.objects.get()
    assert raw.status == RawStatus.PROCESSED and raw.adapter == "twilio_sms"
    assert b"MessageSid=SM" in bytes(raw.payload)


def test_it_refuses_a_forged_signature_stores_nothing_and_logs_it(sms_number, post_signed, caplog):
    with caplog.at_level(logging.WARNING, logger="channels_app.sms.views"):
        response = post_signed(HOOK, sms_form(), token="not-the-token")

    assert response.status_code == 403
    assert "signature" in response.content.decode()
    assert "bad or missing X-Twilio-Signature" in caplog.text
    assert RawInbound.objects.count() == 0 and Message.objects.count() == 0


def test_it_refuses_a_missing_signature(sms_number, post_signed):
    response = post_signed(HOOK, sms_form(), signature="")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_a_signature_computed_over_another_url(sms_number, post_signed):
    # What Django sees locally is not what Twilio signed: the public URL is the one.
    response = post_signed(HOOK, sms_form(), signed_url=f"http://testserver{HOOK}")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_params_changed_after_signing(sms_number, client):
    params = sms_form("original")
    signature = sign(f"{PUBLIC}{HOOK}", params)
    tampered = {**params, "Body": "tampered"}

    response = client.post(
        HOOK,
        urlencode(tampered),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_a_message_to_a_number_we_do_not_have(sms_number, post_signed):
    response = post_signed(HOOK, sms_form(to="+14155550111"))

    assert response.status_code == 403
    assert RawInbound.objects.count() == 0


def test_it_stores_one_message_when_twilio_retries_the_same_sid(sms_number, post_signed):
    first = post_signed(HOOK, sms_form("once"))
    second = post_signed(HOOK, sms_form("once"))

    assert first.status_code == second.status_code == 200
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_it_quarantines_a_signed_form_it_cannot_read_and_still_answers(sms_number, post_signed):
    params = sms_form()
    del params["MessageSid"], params["SmsSid"]

    response = post_signed(HOOK, params)

    assert response.status_code == 200
    raw = RawInbound.objects.get()
    assert raw.status == RawStatus.QUARANTINED
    assert "MessageSid" in raw.error
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "written", ["+1 415 555 0199", "(415) 555-0199", "+1-415-555-0199", "4155550199"]
)
def test_it_normalizes_phone_numbers_to_e164(written):
    assert normalize_phone(written) == CUSTOMER_PHONE


def test_it_rejects_something_that_is_not_a_phone_number():
    with pytest.raises(TicketError, match="not a"):
        normalize_phone("call me maybe")


def test_it_resolves_a_number_stored_in_another_format_to_the_known_customer(
    sms_number, post_signed, customer
):
    IdentityFactory(
        customer=customer, kind=IdentityKind.PHONE, value=normalize_phone("(415) 555-0199")
    )

    post_signed(HOOK, sms_form())

    assert Message.objects.get().ticket.customer_id == customer.pk
    assert ContactIdentity.objects.filter(kind=IdentityKind.PHONE).count() == 1


def test_it_joins_the_open_ticket_active_within_the_window(sms_number, post_signed):
    post_signed(HOOK, sms_form("first", sid="SM1"))
    post_signed(HOOK, sms_form("second", sid="SM2"))

    ticket = Ticket.objects.get()
    assert list(ticket.messages.values_list("body_text", flat=True)) == ["first", "second"]


def test_it_opens_a_new_ticket_when_the_open_one_is_older_than_the_window(
    sms_number, post_signed, settings
):
    settings.HELPDESK_SMS_THREAD_WINDOW_DAYS = 3
    post_signed(HOOK, sms_form("first", sid="SM1"))
    Ticket.objects.update(updated_at=timezone.now() - timedelta(days=4))

    post_signed(HOOK, sms_form("weeks later", sid="SM2"))

    assert Ticket.objects.count() == 2
    assert Message.objects.get(external_id="SM2").ticket.status == Status.NEW


def test_it_does_not_join_a_solved_ticket_of_another_customer(sms_number, post_signed):
    other = TicketFactory(status=Status.OPEN)

    post_signed(HOOK, sms_form())

    assert Message.objects.get().ticket_id != other.pk


@pytest.mark.parametrize(
    "keyword", ["STOP", "stop", " Unsubscribe ", "STOPALL", "CANCEL", "END", "QUIT"]
)
def test_it_opts_the_number_out_on_a_stop_keyword(sms_number, post_signed, keyword):
    post_signed(HOOK, sms_form(keyword))

    identity = ContactIdentity.objects.get(kind=IdentityKind.PHONE, value=CUSTOMER_PHONE)
    assert identity.opted_out_at is not None
    message = Message.objects.get()
    assert message.is_automated  # stored for the record, never answered


@pytest.mark.parametrize("keyword", ["START", "unstop"])
def test_it_opts_the_number_back_in_on_start(sms_number, post_signed, keyword):
    post_signed(HOOK, sms_form("STOP", sid="SM1"))

    post_signed(HOOK, sms_form(keyword, sid="SM2"))

    identity = ContactIdentity.objects.get(kind=IdentityKind.PHONE, value=CUSTOMER_PHONE)
    assert identity.opted_out_at is None


def test_it_does_not_treat_a_sentence_containing_stop_as_an_opt_out(sms_number, post_signed):
    post_signed(HOOK, sms_form("Please stop the delivery"))

    assert ContactIdentity.objects.get(kind=IdentityKind.PHONE).opted_out_at is None


def test_it_records_media_as_links_and_fetches_them_with_the_account_credentials(
    sms_number, post_signed, fake_twilio, django_capture_on_commit_callbacks
):
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    fake_twilio.media[path] = ("image/png", b"\x89PNG fake image")
    params = sms_form(
        "photo of the damage",
        NumMedia="1",
        MediaUrl0=f"{fake_twilio.url}{path}",
        MediaContentType0="image/png",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(HOOK, params)

    assert response.status_code == 200
    message = Message.objects.get()
    assert f"Media: {fake_twilio.url}{path}" in message.body_text
    attachment = message.attachments.get()
    assert attachment.filename == "media-1.png"
    assert attachment.content_type == "image/png"
    assert attachment.size == len(b"\x89PNG fake image")
    fetch = [r for r in fake_twilio.requests if r.method == "GET"]
    assert fetch and fetch[0].basic_auth == (ACCOUNT_SID, AUTH_TOKEN)


def test_it_fetches_media_only_once_when_the_task_runs_twice(
    sms_number, post_signed, fake_twilio, django_capture_on_commit_callbacks
):
    from channels_app.sms.services import sms_media_fetch

    path = "/media/ME2"
    fake_twilio.media[path] = ("image/jpeg", b"jpeg-bytes")
    params = sms_form(
        "", NumMedia="1", MediaUrl0=f"{fake_twilio.url}{path}", MediaContentType0="image/jpeg"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(HOOK, params)
    message = Message.objects.get()

    again = sms_media_fetch(message_id=message.pk, number_id=sms_number.pk)

    assert again == 0
    assert message.attachments.count() == 1


def test_it_validates_with_the_auth_token_of_the_number_texted(db, public_base, post_signed):
    from channels_app.models import SmsNumber

    SmsNumber.objects.create(phone=OUR_NUMBER, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    SmsNumber.objects.create(phone="+14155550101", account_sid="AC2", auth_token="other-token")

    ok = post_signed(HOOK, sms_form(to="+14155550101", sid="SM9"), token="other-token")
    wrong = post_signed(HOOK, sms_form(to="+14155550101", sid="SM8"), token=AUTH_TOKEN)

    assert ok.status_code == 200 and wrong.status_code == 403
