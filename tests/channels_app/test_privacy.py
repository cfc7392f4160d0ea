"""The channels' part of an erasure (CustomerErased subscriber) and of the export."""

import json
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from channels_app.chat.services import chat_history
from channels_app.ingest import raw_inbound_process, raw_inbound_store
from channels_app.models import Delivery, DeliveryPurpose, DeliveryStatus, RawInbound, RawStatus
from channels_app.notifications import notification_enqueue
from tests.privacy_world import Person, person_build
from tickets.privacy import customer_erase, customer_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db: None, agent: Any, settings: Any) -> Person:
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    return person_build(marker="zq7marker", agent=agent, phone="+14155550177")


def _quarantined_web_payload(email: str) -> tuple[RawInbound, str]:
    """A web form payload whose staged file is still there: the adapter refused it."""
    path = default_storage.save("inbound/web/2026/01/staged", ContentFile(b"their scan"))
    raw = raw_inbound_store(
        channel="web",
        adapter="web",
        source="web:form",
        payload=json.dumps(
            {
                "email": email,
                "name": "",
                "subject": "",
                "description": "",
                "attachments": [{"path": path, "sha256": "not-the-checksum"}],
            }
        ).encode(),
        content_type="application/json",
    )
    assert raw_inbound_process(raw_id=raw.pk) is None
    raw.refresh_from_db()
    assert raw.status == RawStatus.QUARANTINED
    return raw, path


def test_it_erases_a_quarantined_payload_and_the_file_it_staged(
    person: Person, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    raw, path = _quarantined_web_payload(person.email)
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(person.customer, actor=admin_user)
    raw.refresh_from_db()
    assert bytes(raw.payload) == b"" and raw.error == "" and raw.purged_at is not None
    assert not default_storage.exists(path)


def test_it_purges_another_customers_payload_that_names_the_person(
    person: Person, bystander_raw: RawInbound, admin_user: Any
) -> None:
    customer_erase(person.customer, actor=admin_user)
    bystander_raw.refresh_from_db()
    assert bystander_raw.purged_at is not None  # the archive copy; the message itself stays


@pytest.fixture
def bystander_raw(person: Person) -> RawInbound:
    return raw_inbound_store(
        channel="email",
        adapter="email",
        source="imap:test",
        payload=f"From: x@example.net\r\nCc: {person.email.upper()}\r\n\r\nhi".encode(),
    )


def test_the_chat_widget_finds_no_history_for_the_erased_visitor(
    person: Person, admin_user: Any
) -> None:
    assert chat_history(visitor_id=person.visitor_id)
    customer_erase(person.customer, actor=admin_user)
    assert chat_history(visitor_id=person.visitor_id) == []


def test_it_leaves_agents_notices_and_other_peoples_deliveries_alone(
    person: Person, admin_user: Any
) -> None:
    notice = notification_enqueue(
        purpose=DeliveryPurpose.AGENT_NOTIFICATION,
        recipient="alex@staff.example",
        context={"ticket_id": person.tickets["email"].pk},
    )
    other = notification_enqueue(
        purpose=DeliveryPurpose.SIGN_IN_LINK,
        recipient="someone@example.net",
        context={"customer_id": person.customer.pk + 1000, "email": "someone@example.net"},
    )
    assert notice is not None and other is not None
    customer_erase(person.customer, actor=admin_user)
    for kept in (notice, other):
        row = Delivery.objects.get(pk=kept.pk)
        assert row.recipient == kept.recipient and row.status == DeliveryStatus.QUEUED


def test_every_delivery_to_the_person_loses_its_address_and_context(
    person: Person, admin_user: Any
) -> None:
    theirs = list(
        Delivery.objects.filter(recipient__in=[person.email, person.visitor_id]).values_list(
            "pk", flat=True
        )
    )
    assert len(theirs) >= 2  # the acknowledgement and the email reply
    customer_erase(person.customer, actor=admin_user)
    for row in Delivery.objects.filter(pk__in=theirs):
        assert (row.recipient, row.context, row.provider_id) == ("", {}, "")
        assert row.status == DeliveryStatus.SKIPPED


def test_the_export_lists_their_payloads_and_deliveries(person: Person) -> None:
    data = customer_export(person.customer)
    assert {r["channel"] for r in data["raw_payloads"]} == {"web", "email", "sms", "chat"}
    purposes = {d["purpose"] for d in data["deliveries"]}
    assert {DeliveryPurpose.REPLY, DeliveryPurpose.ACKNOWLEDGEMENT} <= purposes
