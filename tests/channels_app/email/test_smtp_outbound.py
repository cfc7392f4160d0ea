"""Agent replies over real SMTP (aiosmtpd on loopback): the exact bytes, and a threading
round trip back through the adapter."""

from email import policy
from email.parser import BytesParser

import pytest

from channels_app.models import AgentSignature, Delivery, DeliveryStatus, Mailbox
from tickets.models import Direction, Message
from tickets.services import NewFile, message_reply

pytestmark = pytest.mark.django_db


def parsed(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def test_it_sends_a_reply_with_threading_headers_reply_address_and_signature(
    smtp_server, deliver, mailbox, agent, django_capture_on_commit_callbacks
):
    AgentSignature.objects.create(user=agent, text="Alex\nSupport team")
    first, _ = deliver(
        b"From: Dana <dana@example.com>\r\nTo: support@helpdesk.test\r\nSubject: Order late\r\n"
        b"Message-ID: <first@example.com>\r\n\r\nWhere is it?\r\n",
        mailbox,
    )
    ticket = first.ticket

    with django_capture_on_commit_callbacks(execute=True):
        reply = message_reply(
            ticket=ticket,
            author=agent,
            body_text="It ships today.",
            attachments=[NewFile("label.pdf", "application/pdf", b"%PDF-label")],
        )

    ((mail_from, rcpt_tos, raw),) = smtp_server.messages
    sent = parsed(raw)
    assert mail_from == "support@helpdesk.test" and rcpt_tos == ["dana@example.com"]
    assert sent["From"].addresses[0].addr_spec == "support@helpdesk.test"
    assert sent["Message-ID"] == reply.rfc_message_id
    assert sent["In-Reply-To"] == "<first@example.com>"
    assert "<first@example.com>" in sent["References"]
    assert sent["Reply-To"] == f"support+{ticket.reply_token}@helpdesk.test"
    assert sent["Subject"] == f"Re: [#{ticket.number}] Order late"
    assert sent["Auto-Submitted"] is None
    text = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = sent.get_body(("html",)).get_content()
    assert "It ships today." in text and text.rstrip().endswith("-- \nAlex\nSupport team")
    assert "It ships today." in html and "Support team" in html
    (attachment,) = list(sent.iter_attachments())
    assert attachment.get_filename() == "label.pdf"
    assert attachment.get_content() == b"%PDF-label"
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_id == reply.rfc_message_id


def test_it_uses_the_plain_address_when_the_mailbox_has_no_plus_addressing(
    smtp_server, deliver, mailbox, agent, django_capture_on_commit_callbacks
):
    Mailbox.objects.filter(pk=mailbox.pk).update(plus_addressing=False)
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Hi\r\n\r\nhi\r\n", mailbox)

    with django_capture_on_commit_callbacks(execute=True):
        message_reply(ticket=first.ticket, author=agent, body_text="Hello")

    assert parsed(smtp_server.messages[0][2])["Reply-To"] == "support@helpdesk.test"


def test_it_threads_the_customers_answer_to_our_reply_back_to_the_ticket(
    smtp_server, deliver, mailbox, agent, django_capture_on_commit_callbacks
):
    first, _ = deliver(
        b"From: dana@example.com\r\nTo: support@helpdesk.test\r\nSubject: Broken\r\n"
        b"Message-ID: <start@example.com>\r\n\r\nIt broke.\r\n",
        mailbox,
    )
    with django_capture_on_commit_callbacks(execute=True):
        message_reply(ticket=first.ticket, author=agent, body_text="Try turning it off.")
    ours = parsed(smtp_server.messages[0][2])

    # The customer's client answers to Reply-To, quoting our Message-ID.
    answer = (
        f"From: dana@example.com\r\nTo: {ours['Reply-To']}\r\n"
        f"Subject: Re: {ours['Subject']}\r\nMessage-ID: <answer@example.com>\r\n"
        f"In-Reply-To: {ours['Message-ID']}\r\nReferences: {ours['References']} "
        f"{ours['Message-ID']}\r\n\r\nThat worked, thanks!\r\n\r\n"
        f"On Monday Support wrote:\r\n> Try turning it off.\r\n"
    ).encode()
    result, _ = deliver(answer, mailbox)

    assert result.ticket.pk == first.ticket.pk and not result.created_ticket
    assert result.message.subject == "Broken"
    inbound = Message.objects.filter(ticket=first.ticket, direction=Direction.INBOUND)
    assert inbound.count() == 2


def test_it_sends_acknowledgements_marked_auto_replied(
    smtp_server, deliver, mailbox, django_capture_on_commit_callbacks
):
    Mailbox.objects.filter(pk=mailbox.pk).update(send_acknowledgement=True)
    mailbox.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        result, _ = deliver(
            b"From: dana@example.com\r\nSubject: New\r\nMessage-ID: <n@example.com>\r\n\r\nx\r\n",
            mailbox,
        )

    sent = parsed(smtp_server.messages[0][2])
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["X-Auto-Response-Suppress"] == "All"
    assert sent["In-Reply-To"] == "<n@example.com>"
    assert f"[#{result.ticket.number}]" in sent["Subject"]


def test_it_retries_later_when_the_smtp_server_is_down(
    deliver, mailbox, agent, settings, django_capture_on_commit_callbacks
):
    from tests.live_server import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Hi\r\n\r\nhi\r\n", mailbox)
    reply = message_reply(ticket=first.ticket, author=agent, body_text="Hello")
    from channels_app.delivery import delivery_send

    outcome = delivery_send(delivery_id=Delivery.objects.get(message=reply).pk)

    delivery = Delivery.objects.get(message=reply)
    assert outcome.status == DeliveryStatus.QUEUED and outcome.retry_in
    assert "Could not reach the mail server" in delivery.last_error
