"""The email backend against a real SMTP server (aiosmtpd) on an ephemeral loopback port."""

from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from channels_app.delivery import delivery_send
from channels_app.models import Delivery, DeliveryStatus
from tickets.services import message_reply

pytestmark = pytest.mark.django_db


class EphemeralController(Controller):
    """aiosmtpd on port 0: learn the port the OS picked before the start-up probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Inbox:
    def __init__(self, rcpt_reply=None):
        self.rcpt_reply = rcpt_reply
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    def start(rcpt_reply=None):
        inbox = Inbox(rcpt_reply)
        controller = EphemeralController(inbox, hostname="127.0.0.1", port=0)
        controller.start()
        servers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        return inbox

    servers = []
    yield start
    for controller in servers:
        controller.stop()


def test_it_sends_a_threaded_reply_through_a_real_smtp_server(smtp, ingest, agent):
    inbox = smtp()
    ticket = ingest(external_id="1", rfc_message_id="<first@customer.example>").ticket
    ingest(
        external_id="2",
        rfc_message_id="<second@customer.example>",
        thread_hints=("<first@customer.example>",),
    )
    reply = message_reply(
        ticket=ticket,
        author=agent,
        body_text="It ships today.",
        body_html="<p>It ships <b>today</b>.</p>",
    )
    delivery = Delivery.objects.get(message=reply)

    outcome = delivery_send(delivery_id=delivery.pk)

    assert outcome.status == DeliveryStatus.SENT
    [(mail_from, rcpt_tos, content)] = inbox.received
    assert rcpt_tos == ["dana@example.com"] and mail_from == "support@helpdesk.localhost"
    parsed = message_from_bytes(content, policy=default_policy)
    assert parsed["Message-ID"] == reply.rfc_message_id
    assert parsed["In-Reply-To"] == "<second@customer.example>"
    assert parsed["References"] == "<first@customer.example> <second@customer.example>"
    assert parsed["Subject"] == f"Re: [#{ticket.number}] {ticket.subject}"
    assert parsed.get_body(("plain",)).get_content().strip() == "It ships today."
    assert "<b>today</b>" in parsed.get_body(("html",)).get_content()
    delivery.refresh_from_db()
    assert delivery.provider_id == reply.rfc_message_id


def test_it_fails_for_good_when_the_server_refuses_the_mailbox(smtp, ingest, agent):
    smtp(rcpt_reply="550 5.1.1 No such user here")
    ticket = ingest(external_id="1").ticket
    reply = message_reply(ticket=ticket, author=agent, body_text="Hi")
    delivery = Delivery.objects.get(message=reply)

    outcome = delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.status == DeliveryStatus.FAILED
    assert delivery.status == DeliveryStatus.FAILED and "No such user" in delivery.last_error


def test_it_retries_later_when_the_server_defers_the_mailbox(smtp, ingest, agent):
    smtp(rcpt_reply="450 4.2.1 Mailbox busy, try later")
    ticket = ingest(external_id="1").ticket
    reply = message_reply(ticket=ticket, author=agent, body_text="Hi")
    delivery = Delivery.objects.get(message=reply)

    outcome = delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.status == DeliveryStatus.QUEUED and outcome.retry_in
    assert delivery.status == DeliveryStatus.QUEUED and "deferred" in delivery.last_error


def test_it_retries_later_when_no_server_listens(smtp, ingest, agent, settings):
    smtp()
    settings.EMAIL_PORT = 1  # nothing listens on a privileged loopback port here
    ticket = ingest(external_id="1").ticket
    reply = message_reply(ticket=ticket, author=agent, body_text="Hi")
    delivery = Delivery.objects.get(message=reply)

    outcome = delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.status == DeliveryStatus.QUEUED
    assert "Could not reach the mail server" in delivery.last_error
