"""customer_export and its ZIP: everything about the person, nothing about anyone else."""

import io
import json
import zipfile
from typing import Any

import pytest

from helpdesk.audit.models import AuditEntry
from tests.privacy_world import Person
from tickets.models import Attachment
from tickets.privacy import EXPORT_FORMAT, customer_export, customer_export_archive

pytestmark = pytest.mark.django_db


def _archive(person: Person, **kwargs: Any) -> zipfile.ZipFile:
    out = io.BytesIO()
    customer_export_archive(customer=person.customer, out=out, actor=None, **kwargs)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_it_exports_every_part_of_the_persons_history(person: Person) -> None:
    data = customer_export(person.customer)
    assert data["format"] == EXPORT_FORMAT
    assert data["customer"]["name"] == "Zq7marker Person"
    kinds = {(i["kind"], i["value"]) for i in data["identities"]}
    assert {("email", person.email), ("phone", person.phone), ("chat", person.visitor_id)} <= kinds
    channels = {m["channel"] for t in data["tickets"] for m in t["messages"]}
    assert channels == {"web", "email", "sms", "chat"}
    bodies = [m["body_text"] for t in data["tickets"] for m in t["messages"]]
    assert any("sms from zq7marker" in b for b in bodies)
    assert any("Hello Zq7marker Person" in b for b in bodies)  # the agent's reply to them
    assert any("called about zq7marker" in b for b in bodies)  # internal notes included
    assert data["satisfaction_ratings"][0]["comment"] == "zq7marker was not happy"
    assert data["portal_sign_ins"] and data["raw_payloads"]
    assert {d["recipient"] for d in data["deliveries"]} >= {person.email}
    assert "nonce" not in json.dumps(data["portal_sign_ins"])


def test_it_leaves_internal_notes_out_when_asked(person: Person) -> None:
    data = customer_export(person.customer, include_internal=False)
    assert data["internal_notes_included"] is False
    assert not any(m["internal_note"] for t in data["tickets"] for m in t["messages"])


def test_the_zip_holds_the_json_and_every_file_and_nothing_of_another_customer(
    person: Person, bystander: Person
) -> None:
    archive = _archive(person)
    data = json.loads(archive.read("customer.json"))
    files = [n for n in archive.namelist() if n.startswith("attachments/")]
    listed = [a["file"] for t in data["tickets"] for m in t["messages"] for a in m["attachments"]]
    assert sorted(files) == sorted(listed) and len(files) == 2
    contents = b"".join(archive.read(name) for name in archive.namelist())
    assert b"zq7marker" in contents
    for needle in bystander.needles:
        assert needle.encode() not in contents.lower()


def test_it_lists_a_file_missing_from_storage_instead_of_failing(person: Person) -> None:
    attachment = Attachment.objects.filter(message__ticket__customer=person.customer).first()
    assert attachment is not None
    attachment.file.storage.delete(attachment.file.name)
    archive = _archive(person)
    data = json.loads(archive.read("customer.json"))
    rows = [a for t in data["tickets"] for m in t["messages"] for a in m["attachments"]]
    missing = next(a for a in rows if a["id"] == attachment.pk)
    assert missing["file"] is None and missing["missing"] is True


def test_the_export_is_recorded_in_the_audit_trail(person: Person) -> None:
    _archive(person)
    entry = AuditEntry.objects.get(action="customer.export")
    assert entry.target_id == str(person.customer.pk)
    assert entry.data == {"internal_notes": True}
    # The next export lists this one among the entries about them.
    data = json.loads(_archive(person).read("customer.json"))
    assert [e["action"] for e in data["audit_entries"]] == ["customer.export"]


def test_its_query_count_does_not_grow_with_the_history(customer: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import TicketFactory
    from tickets.models import Message

    def grow() -> int:
        ticket = TicketFactory(customer=customer)
        for _ in range(3):
            Message.objects.create(ticket=ticket, channel="email", direction="inbound")
        with CaptureQueriesContext(connection) as queries:
            customer_export(customer)
        return len(queries)

    assert grow() == grow() == grow()
