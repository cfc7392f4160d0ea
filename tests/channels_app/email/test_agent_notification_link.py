"""Agent notification mails link to the ticket itself, on the public address."""

from urllib.parse import urlsplit

import pytest
from django.core import mail

from tickets.models import Ticket
from tickets.services import ticket_assign

pytestmark = pytest.mark.django_db

PUBLIC = "https://desk.example.com"


def test_it_links_a_customer_reply_notification_to_the_ticket(
    deliver, mailbox, agent, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = PUBLIC
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)
    Ticket.objects.filter(pk=first.ticket.pk).update(assignee=agent)
    reply = f"From: dana@example.com\r\nSubject: [#{first.ticket.number}]\r\n\r\nmore\r\n"

    with django_capture_on_commit_callbacks(execute=True):
        deliver(reply.encode(), mailbox)

    (sent,) = mail.outbox
    assert f"Open it: {PUBLIC}/agent/tickets/{first.ticket.number}/\n" in sent.body
    assert f"{PUBLIC}/agent/\n" not in sent.body


def test_it_links_an_assignment_notification_to_the_ticket(
    deliver, mailbox, lead, other_agent, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = PUBLIC + "/"  # a trailing slash makes no double slash
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=first.ticket, agent=other_agent, actor=lead)

    (sent,) = mail.outbox
    assert f"{PUBLIC}/agent/tickets/{first.ticket.number}/" in sent.body
    assert "//agent" not in sent.body


def test_it_opens_the_linked_page_for_the_agent(
    deliver, mailbox, lead, other_agent, client, django_capture_on_commit_callbacks
):
    first, _ = deliver(b"From: dana@example.com\r\nSubject: Help\r\n\r\nhelp\r\n", mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=first.ticket, agent=other_agent, actor=lead)
    link = mail.outbox[0].body.split("Open it: ", 1)[1].split()[0]
    client.force_login(other_agent)

    page = client.get(urlsplit(link).path)

    assert page.status_code == 200 and "Help" in page.content.decode()
