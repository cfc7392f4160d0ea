"""The mailbox admin: health at a glance, the password never echoed, fetch on demand."""

import re

import pytest
from django.utils import timezone

from channels_app.models import Mailbox
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_it_shows_the_last_error_and_success(admin_client, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_password="hunter2-secret",
        last_error="Could not log in to imap.example.com as support: bad password.",
        last_error_at=timezone.now(),
        last_success_at=timezone.now(),
    )

    page = admin_client.get(f"/admin/channels_app/mailbox/{mailbox.pk}/change/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "Could not log in to imap.example.com" in body
    assert "hunter2-secret" not in body


def test_it_keeps_the_password_when_the_field_is_left_blank(admin_client, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password="keep-me")
    form = {
        "name": "Support",
        "address": "support@helpdesk.test",
        "is_active": "on",
        "imap_host": "imap.example.com",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_username": "support",
        "imap_password": "",
        "imap_folder": "INBOX",
        "ack_subject": "We got it [#{number}]",
        "ack_body": "Thanks {name}",
    }

    response = admin_client.post(f"/admin/channels_app/mailbox/{mailbox.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "keep-me" and mailbox.imap_host == "imap.example.com"


def test_it_fetches_mail_on_demand(admin_client, dovecot, imap_mailbox):
    from tests.channels_app.email.test_imap_poll import append, mail

    append(dovecot, imap_mailbox, mail(7))

    response = admin_client.post(
        "/admin/channels_app/mailbox/",
        {"action": "poll_now", "_selected_action": [imap_mailbox.pk]},
        follow=True,
    )

    assert "1 new message(s) stored" in response.content.decode()
    assert Ticket.objects.get().subject == "Problem 7"


@pytest.mark.embedded
def test_it_crosses_a_failing_mailbox_and_ticks_a_healthy_one(admin_client, mailbox):
    failing = Mailbox.objects.create(
        name="Billing", address="billing@helpdesk.test", imap_host="imap.example.com"
    )
    Mailbox.objects.filter(pk=failing.pk).update(
        last_error="Could not connect to imap.example.com:993.", last_error_at=timezone.now()
    )

    page = admin_client.get("/admin/channels_app/mailbox/").content.decode()

    rows = {
        address: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for address in ("billing@helpdesk.test", "support@helpdesk.test")
        if address in row
    }
    assert "column-healthy" in page and ">Working<" in page
    assert 'icon-no.svg" alt="False"' in rows["billing@helpdesk.test"]
    assert 'icon-yes.svg" alt="True"' in rows["support@helpdesk.test"]
