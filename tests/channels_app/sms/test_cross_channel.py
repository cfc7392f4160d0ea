import pytest

from channels_app.ingest import inbound_message_ingest
from channels_app.models import Delivery, DeliveryStatus
from tests.channels_app.sms.conftest import CUSTOMER_PHONE, sms_form
from tests.factories import IdentityFactory
from tickets.models import Channel, IdentityKind, Message, TicketEvent
from tickets.selectors import ticket_timeline
from tickets.services import message_reply, reply_channel_default

pytestmark = pytest.mark.django_db


def test_it_puts_an_email_then_an_sms_from_one_customer_on_one_ticket_and_replies_by_sms(
    customer,
    agent,
    sms_number,
    post_signed,
    make_inbound,
    fake_twilio,
    django_capture_on_commit_callbacks,
):
    IdentityFactory(customer=customer, kind=IdentityKind.PHONE, value=CUSTOMER_PHONE)
    emailed = inbound_message_ingest(message=make_inbound(external_id="<e1@mail>"))

    response = post_signed("/hooks/twilio/sms/", sms_form("Any news? (texting now)"))

    assert response.status_code == 200
    texted = Message.objects.get(channel=Channel.SMS)
    assert texted.ticket_id == emailed.ticket.pk
    assert reply_channel_default(ticket=emailed.ticket) == Channel.SMS

    with django_capture_on_commit_callbacks(execute=True):
        answer = message_reply(ticket=emailed.ticket, author=agent, body_text="Ships today.")

    assert answer.channel == Channel.SMS
    delivery = Delivery.objects.get(message=answer)
    assert delivery.status == DeliveryStatus.SENT and delivery.recipient == CUSTOMER_PHONE
    assert fake_twilio.requests[0].form["To"] == CUSTOMER_PHONE
    timeline = ticket_timeline(ticket=emailed.ticket)
    messages = [item for item in timeline if isinstance(item, Message)]
    assert [(m.channel, m.direction) for m in messages] == [
        (Channel.EMAIL, "inbound"),
        (Channel.SMS, "inbound"),
        (Channel.SMS, "outbound"),
    ]
    assert any(isinstance(item, TicketEvent) for item in timeline)
