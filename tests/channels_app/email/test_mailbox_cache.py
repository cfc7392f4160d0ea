"""Inbound mail reads the mailboxes from a per-process copy that every edit refreshes."""

from typing import Any

import pytest
from django.core.cache import cache

from channels_app.email.inbound import email_meta, mailbox_for_payload
from channels_app.email.mailboxes import mailbox_active, own_addresses
from channels_app.models import Mailbox
from helpdesk.lib.config_cache import VERSION_KEY

pytestmark = pytest.mark.django_db(transaction=True)

MAIL = b"From: a@example.com\r\nTo: Sales <sales+abc123@helpdesk.test>\r\nSubject: x\r\n\r\nhi\r\n"


def test_it_reads_the_mailboxes_once_per_process(django_assert_num_queries: Any) -> None:
    support = Mailbox.objects.create(name="Support", address="support@helpdesk.test")
    assert own_addresses() == {"support@helpdesk.test"}
    with django_assert_num_queries(0):
        assert own_addresses() == {"support@helpdesk.test"}
        assert mailbox_active(mailbox_id=support.pk) == support
        assert email_meta(mailbox=support)["own_addresses"] == "support@helpdesk.test"


def test_a_new_renamed_or_deactivated_mailbox_is_seen_at_once() -> None:
    assert own_addresses() == set()
    assert mailbox_for_payload(payload=MAIL) is None
    sales = Mailbox.objects.create(name="Sales", address="sales@helpdesk.test")
    assert mailbox_for_payload(payload=MAIL) == sales
    sales.address = "Sales2@helpdesk.test"
    sales.save()
    assert own_addresses() == {"sales2@helpdesk.test"}
    sales.is_active = False
    sales.save()
    assert mailbox_active(mailbox_id=sales.pk) is None
    assert own_addresses() == {"sales2@helpdesk.test"}  # inactive, still ours: no loops
    sales.delete()
    assert own_addresses() == set()


def test_polling_status_writes_do_not_reload(django_assert_num_queries: Any) -> None:
    mailbox = Mailbox.objects.create(name="Support", address="support@helpdesk.test")
    own_addresses()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="down")  # what a poll writes
    with django_assert_num_queries(0):
        own_addresses()


def test_a_change_by_another_process_is_seen_through_the_shared_version() -> None:
    Mailbox.objects.create(name="Support", address="support@helpdesk.test")
    assert own_addresses() == {"support@helpdesk.test"}
    Mailbox.objects.update(address="help@helpdesk.test")  # the other process's write
    cache.set(VERSION_KEY, "another-process", timeout=None)  # and its new version
    assert own_addresses() == {"help@helpdesk.test"}
