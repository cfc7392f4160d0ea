"""Query ceilings per ingested email (IMAP / pipe path: store and process in one
transaction, counted with its BEGIN and COMMIT). A change that adds a query to every
message fails here; raise a ceiling only for a query the message really needs."""

from email.message import EmailMessage
from typing import Any

import pytest

from channels_app.email.inbound import email_receive_and_process
from channels_app.models import Mailbox
from tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox() -> Mailbox:
    box = Mailbox.objects.create(
        name="Support", address="support@helpdesk.test", send_acknowledgement=False
    )
    # Warm the per-process configuration copies, as any running worker has them.
    receive(mail("warm@example.com", "<warm@example.com>"), box)
    return box


def mail(
    sender: str, message_id: str, *, reply_to: str = "", attachment: bool = False, cc: str = ""
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer <{sender}>"
    msg["To"] = "support@helpdesk.test"
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = ("Re: " if reply_to else "") + "Printer broken"
    msg["Message-ID"] = message_id
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content("The printer is broken again.\n")
    if attachment:
        msg.add_attachment(b"%PDF-1.4 invoice", maintype="application", subtype="pdf",
                           filename="invoice.pdf")  # fmt: skip
    return msg.as_bytes()


def receive(payload: bytes, mailbox: Mailbox) -> Any:
    _, result = email_receive_and_process(payload=payload, source="test", mailbox=mailbox)
    assert result is not None
    return result


def test_a_first_mail_from_a_new_customer(mailbox: Mailbox, django_assert_max_num_queries: Any):
    # begin, payload, savepoint, identity lookup, customer + identity (in a savepoint: 4),
    # ticket key, ticket, created event, its report facts, message, release, commit
    with django_assert_max_num_queries(15):
        result = receive(mail("new@example.com", "<first@example.com>"), mailbox)
    assert result.created_ticket


def test_a_reply_threaded_by_in_reply_to(mailbox: Mailbox, django_assert_max_num_queries: Any):
    first = receive(mail("dana@example.com", "<one@example.com>"), mailbox)
    # begin, payload, savepoint, identity, ticket by thread (locked), message, ticket
    # update, SLA clocks, release, commit
    with django_assert_max_num_queries(10):
        result = receive(
            mail("dana@example.com", "<two@example.com>", reply_to="<one@example.com>"), mailbox
        )
    assert result.ticket.pk == first.ticket.pk and not result.created_ticket


def test_a_reply_with_an_attachment(mailbox: Mailbox, django_assert_max_num_queries: Any):
    receive(mail("dana@example.com", "<one@example.com>"), mailbox)
    with django_assert_max_num_queries(11):  # + the attachment row
        result = receive(
            mail(
                "dana@example.com", "<a@example.com>", reply_to="<one@example.com>", attachment=True
            ),
            mailbox,
        )
    assert [a.filename for a in result.message.attachments.all()] == ["invoice.pdf"]


def test_a_duplicate_costs_little_and_stores_nothing_new(
    mailbox: Mailbox, django_assert_max_num_queries: Any
):
    payload = mail("dana@example.com", "<dup@example.com>")
    receive(payload, mailbox)
    with django_assert_max_num_queries(15):
        result = receive(payload, mailbox)
    assert result.duplicate and Message.objects.filter(external_id="<dup@example.com>").count() == 1
