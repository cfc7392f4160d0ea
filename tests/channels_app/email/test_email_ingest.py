"""Email through the one ingest path: storage, threading, dedup, loops, bounces,
acknowledgements and agent notifications."""

import pytest
from django.core import mail
from django.utils import timezone

from channels_app.models import Delivery, DeliveryStatus, Mailbox, RawStatus
from tests.factories import AgentFactory
from tickets.models import Attachment, Direction, Message, Status, Ticket
from tickets.services import message_reply, ticket_assign

pytestmark = pytest.mark.django_db


def test_it_stores_html_only_mail_sanitized_with_derived_text(deliver, load_eml, mailbox):
    result, raw = deliver(load_eml("html_only.eml"), mailbox)

    message = result.message
    assert raw.status == RawStatus.PROCESSED and message.raw_id == raw.pk
    assert "First paragraph & more." in message.body_text
    assert "<script" not in message.body_html and "steal()" not in message.body_html
    assert result.ticket.subject == "Only HTML here"


def test_it_sanitizes_the_html_alternative(deliver, load_eml, mailbox):
    result, _ = deliver(load_eml("alternative.eml"), mailbox)

    html = result.message.body_html
    assert "<b>my order</b>" in html
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html
    assert result.message.body_text == "Where is my order?"


def test_it_stores_attachments_and_inline_images(deliver, load_eml, mailbox):
    deliver(load_eml("attachments.eml"), mailbox)
    deliver(load_eml("inline_image.eml"), mailbox)

    names = sorted(Attachment.objects.values_list("filename", flat=True))
    assert names == ["Résumé final.txt", "image.png", "passwd.pdf"]
    assert Attachment.objects.get(filename="image.png").content_id == "shot1@example.com"


def test_it_stores_one_message_when_the_same_mail_arrives_twice(deliver, load_eml, mailbox):
    for name in ("alternative.eml", "no_message_id.eml"):
        first, _ = deliver(load_eml(name), mailbox)
        second, raw = deliver(load_eml(name), mailbox)
        assert second.duplicate and second.message.pk == first.message.pk
        assert raw.status == RawStatus.PROCESSED
    assert Message.objects.count() == 2


def test_it_threads_a_reply_to_our_message_id(deliver, load_eml, mailbox, agent):
    first, _ = deliver(load_eml("alternative.eml"), mailbox)
    ours = message_reply(ticket=first.ticket, author=agent, body_text="Shipped today.")
    reply = (
        f"From: dana@example.com\r\nSubject: Re: something else\r\nMessage-ID: <r2@example.com>\r\n"
        f"In-Reply-To: {ours.rfc_message_id}\r\n\r\nThanks!\r\n"
    ).encode()

    result, _ = deliver(reply, mailbox)

    assert result.ticket.pk == first.ticket.pk and not result.created_ticket


def test_it_threads_on_the_plus_address_token(deliver, mailbox):
    first, _ = deliver(b"From: a@example.com\r\nSubject: One\r\n\r\nfirst\r\n", mailbox)
    token = first.ticket.reply_token
    reply = (
        f"From: someone-else@example.com\r\nTo: support+{token}@helpdesk.test\r\n"
        "Subject: unrelated\r\n\r\nsecond\r\n"
    ).encode()

    result, _ = deliver(reply, mailbox)

    assert result.ticket.pk == first.ticket.pk


def test_it_threads_on_the_subject_token_only_for_the_tickets_customer(deliver, mailbox):
    first, _ = deliver(b"From: a@example.com\r\nSubject: One\r\n\r\nfirst\r\n", mailbox)
    number = first.ticket.number
    same = f"From: a@example.com\r\nSubject: Re: [#{number}] One\r\n\r\nmore\r\n".encode()
    stranger = f"From: b@example.com\r\nSubject: Re: [#{number}] One\r\n\r\nhi\r\n".encode()

    assert deliver(same, mailbox)[0].ticket.pk == first.ticket.pk
    assert deliver(stranger, mailbox)[0].ticket.pk != first.ticket.pk


def test_it_stores_automated_mail_without_reopening_or_answering(deliver, load_eml, mailbox):
    mailbox.send_acknowledgement = True
    mailbox.save()
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)
    Ticket.objects.filter(pk=first.ticket.pk).update(status=Status.SOLVED)
    auto = load_eml("auto_reply_rfc3834.eml").replace(
        b"Subject: Auto:", f"Subject: [#{first.ticket.number}] Auto:".encode()
    )

    result, _ = deliver(auto, mailbox)

    assert result.ticket.pk == first.ticket.pk and result.message.is_automated
    assert Ticket.objects.get(pk=first.ticket.pk).status == Status.SOLVED
    # One acknowledgement: for the customer's first mail, none for the auto-reply.
    assert Message.objects.filter(direction=Direction.OUTBOUND, is_automated=True).count() == 1


def test_it_never_acknowledges_automated_mail_that_opens_a_ticket(deliver, load_eml, mailbox):
    mailbox.send_acknowledgement = True
    mailbox.save()

    for name in ("list_mail.eml", "out_of_office_exchange.eml", "auto_reply_rfc3834.eml"):
        deliver(load_eml(name), mailbox)

    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_it_acknowledges_a_new_ticket_with_its_reference(
    deliver, mailbox, django_capture_on_commit_callbacks
):
    mailbox.send_acknowledgement = True
    mailbox.ack_body = "Hi {name}, ticket #{number} about {subject}.{portal_link}"
    mailbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        result, _ = deliver(
            b"From: Dana Smith <dana@example.com>\r\nSubject: Broken\r\n\r\nhelp\r\n", mailbox
        )

    ack = Message.objects.get(direction=Direction.OUTBOUND)
    assert ack.is_automated
    # The portal's magic link follows the reference (the default HELPDESK_PORTAL_LINK_FUNCTION).
    head, link = ack.body_text.split(".", 1)[0], ack.body_text.split("Broken.", 1)[1]
    assert head == f"Hi Dana, ticket #{result.ticket.number} about Broken"
    assert "/portal/" in link
    (sent,) = mail.outbox
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert f"[#{result.ticket.number}]" in sent.subject
    assert sent.to == ["dana@example.com"]
    assert Delivery.objects.get(message=ack).status == DeliveryStatus.SENT


def test_it_puts_the_portal_link_from_the_hook_in_the_acknowledgement(deliver, mailbox, settings):
    settings.HELPDESK_PORTAL_LINK_FUNCTION = (
        "tests.channels_app.email.test_email_ingest.fake_portal_link"
    )
    mailbox.send_acknowledgement = True
    mailbox.save()

    result, _ = deliver(b"From: dana@example.com\r\nSubject: Broken\r\n\r\nhelp\r\n", mailbox)

    ack = Message.objects.get(direction=Direction.OUTBOUND)
    assert f"https://portal.example/t/{result.ticket.reply_token}" in ack.body_text


def fake_portal_link(ticket):
    return f"https://portal.example/t/{ticket.reply_token}"


def test_it_sends_at_most_three_acknowledgements_an_hour_to_one_address(deliver, mailbox):
    mailbox.send_acknowledgement = True
    mailbox.save()

    for n in range(5):
        deliver(f"From: dana@example.com\r\nSubject: Issue {n}\r\n\r\nhelp\r\n".encode(), mailbox)

    assert Ticket.objects.count() == 5
    assert Delivery.objects.filter(recipient="dana@example.com").count() == 3


def test_it_sends_no_acknowledgement_when_the_mailbox_has_them_off(deliver, mailbox):
    deliver(b"From: dana@example.com\r\nSubject: Issue\r\n\r\nhelp\r\n", mailbox)

    assert not Delivery.objects.exists()


def test_it_marks_our_delivery_bounced_from_a_dsn(deliver, load_eml, mailbox, agent):
    first, _ = deliver(b"From: nobody@customer.example\r\nSubject: Hi\r\n\r\nhi\r\n", mailbox)
    reply = message_reply(ticket=first.ticket, author=agent, body_text="Answer")
    Delivery.objects.filter(message=reply).update(status=DeliveryStatus.SENT)
    bounce = load_eml(
        "bounce_dsn.eml", **{"<OUTBOUND-ID@helpdesk.localhost>": reply.rfc_message_id}
    )

    result, _ = deliver(bounce, mailbox)

    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.BOUNCED
    assert "nobody@customer.example" in delivery.last_error
    assert result.ticket.pk == first.ticket.pk and result.message.is_automated


def test_it_stops_automatic_mail_to_a_bounced_address_until_it_writes_again(
    deliver, load_eml, mailbox, agent
):
    from tickets.models import ContactIdentity

    first, _ = deliver(b"From: nobody@customer.example\r\nSubject: Hi\r\n\r\nhi\r\n", mailbox)
    reply = message_reply(ticket=first.ticket, author=agent, body_text="Answer")
    bounce = load_eml(
        "bounce_dsn.eml", **{"<OUTBOUND-ID@helpdesk.localhost>": reply.rfc_message_id}
    )

    deliver(bounce, mailbox)

    identity = ContactIdentity.objects.get(value="nobody@customer.example")
    assert identity.opted_out_at is not None
    deliver(b"From: nobody@customer.example\r\nSubject: Back\r\n\r\nfixed\r\n", mailbox)
    identity.refresh_from_db()
    assert identity.opted_out_at is None


def test_it_makes_copied_people_followers(deliver, load_eml, mailbox):
    result, _ = deliver(load_eml("cc_and_quote.eml"), mailbox)

    followers = sorted(result.ticket.followers.values_list("value", flat=True))
    assert followers == ["ned@example.com", "oli@example.com"]


def test_it_adds_no_followers_when_the_mailbox_turns_it_off(deliver, load_eml, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(cc_followers=False)
    mailbox.refresh_from_db()

    result, _ = deliver(load_eml("cc_and_quote.eml"), mailbox)

    assert not result.ticket.followers.exists()


def test_it_quarantines_mail_from_our_own_address_and_keeps_it(deliver, mailbox):
    result, raw = deliver(b"From: support@helpdesk.test\r\nSubject: x\r\n\r\nloop\r\n", mailbox)

    assert result is None
    assert raw.status == RawStatus.QUARANTINED and "own mailbox" in raw.error
    assert bytes(raw.payload).endswith(b"loop\r\n")
    assert not Ticket.objects.exists()


def test_it_quarantines_oversized_mail_with_what_to_do(deliver, mailbox, settings):
    settings.HELPDESK_EMAIL_MAX_BYTES = 1024

    result, raw = deliver(b"From: a@example.com\r\n\r\n" + b"x" * 5000, mailbox)

    assert result is None and raw.status == RawStatus.QUARANTINED
    assert "HELPDESK_EMAIL_MAX_BYTES" in raw.error
    assert len(bytes(raw.payload)) > 5000


def test_it_notifies_the_assignee_when_the_customer_replies(
    deliver, mailbox, agent, django_capture_on_commit_callbacks
):
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)
    Ticket.objects.filter(pk=first.ticket.pk).update(assignee=agent)
    reply = f"From: dana@example.com\r\nSubject: [#{first.ticket.number}]\r\n\r\nmore\r\n"

    with django_capture_on_commit_callbacks(execute=True):
        deliver(reply.encode(), mailbox)

    (sent,) = mail.outbox
    assert sent.to == [agent.email]
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert f"#{first.ticket.number}" in sent.subject and "replied" in sent.subject


def test_it_sends_one_notification_for_a_burst_of_replies_and_none_for_chat(
    deliver, mailbox, agent, make_inbound, django_capture_on_commit_callbacks
):
    from channels_app.ingest import inbound_message_ingest

    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)
    Ticket.objects.filter(pk=first.ticket.pk).update(assignee=agent)
    number = first.ticket.number

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            deliver(f"From: dana@example.com\r\nSubject: [#{number}]\r\n\r\n{n}\r\n".encode())
    assert len(mail.outbox) == 1

    from django.core.cache import cache

    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        inbound_message_ingest(
            message=make_inbound(
                channel="chat",
                kind="chat",
                sender="visitor-1",
                external_id="chat-1",
                ticket_reference=first.ticket.reply_token,
            )
        )
    assert len(mail.outbox) == 1


def test_it_notifies_an_agent_of_an_assignment_by_someone_else(
    deliver, mailbox, lead, other_agent, django_capture_on_commit_callbacks
):
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=first.ticket, agent=other_agent, actor=lead)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=first.ticket, agent=lead, actor=lead)  # took it: no mail

    (sent,) = mail.outbox
    assert sent.to == [other_agent.email] and "Assigned to you" in sent.subject


def test_it_retries_payloads_left_unprocessed(mailbox):
    from channels_app.email.inbound import email_receive
    from channels_app.ingest import raw_inbound_retry_stale

    raw = email_receive(payload=b"From: a@example.com\r\nSubject: x\r\n\r\nhi\r\n", source="t")

    assert raw_inbound_retry_stale(now=timezone.now()) == 0  # too fresh: a worker has it
    assert raw_inbound_retry_stale(now=timezone.now() + timezone.timedelta(minutes=10)) == 1
    assert Message.objects.get().raw_id == raw.pk


def test_it_refuses_to_send_to_one_of_our_own_mailboxes(deliver, mailbox):
    from channels_app.delivery import delivery_send

    agent = AgentFactory(username="kai", first_name="Kai")
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Hi\r\n\r\nhi\r\n", mailbox)
    reply = message_reply(ticket=first.ticket, author=agent, body_text="Answer")
    delivery = Delivery.objects.create(
        message=reply, channel="email", recipient="Support@helpdesk.test"
    )

    outcome = delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.status == DeliveryStatus.FAILED
    assert "our own mailboxes" in delivery.last_error
