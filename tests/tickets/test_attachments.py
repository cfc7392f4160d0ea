import hashlib
import unicodedata

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from channels_app.inbound import IncomingFile
from tickets.models import Attachment, attachment_upload_to
from tickets.safe_names import safe_filename

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(ingest):
    """stored(name, type, content) -> Attachment, arriving the way customers send them."""

    def store(filename, content_type, content=b"<html><script>alert(1)</script></html>"):
        result = ingest(
            external_id=filename,
            attachments=(IncomingFile(filename, content_type, content),),
        )
        return result.message.attachments.get()

    return store


def _download(client, attachment):
    return client.get(f"/agent/attachments/{attachment.pk}/")


def test_it_serves_an_attachment_to_an_agent_as_a_download(client, agent, stored):
    attachment = stored("report.csv", "text/csv", b"a,b\n1,2\n")
    client.force_login(agent)

    response = _download(client, attachment)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="report.csv"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "filename,content_type",
    [
        ("page.html", "text/html"),
        ("page.html", "TEXT/HTML; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("page.xhtml", "application/xhtml+xml"),
        ("sneaky.png", "text/html"),
    ],
)
def test_it_never_serves_html_or_svg_as_renderable(client, agent, stored, filename, content_type):
    attachment = stored(filename, content_type)
    client.force_login(agent)

    response = _download(client, attachment)

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_it_hides_attachments_from_anonymous_visitors_and_non_agents(
    client, stored, django_user_model
):
    attachment = stored("report.csv", "text/csv", b"secret")

    anonymous = _download(Client(), attachment)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/agent/login/")
    client.force_login(django_user_model.objects.create_user("outsider"))
    refused = _download(client, attachment)
    assert refused.status_code == 403
    assert b"secret" not in refused.content


def test_it_answers_404_when_the_file_is_gone(client, agent, stored):
    attachment = stored("report.csv", "text/csv", b"x")
    attachment.file.storage.delete(attachment.file.name)
    client.force_login(agent)

    assert _download(client, attachment).status_code == 404


def test_it_records_size_hash_and_a_safe_name(stored):
    attachment = stored("../../../etc/passwd", "text/plain", b"root:x:0:0")

    assert attachment.filename == "passwd"
    assert attachment.size == 10
    assert attachment.sha256 == hashlib.sha256(b"root:x:0:0").hexdigest()
    assert attachment.file.read() == b"root:x:0:0"
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    "raw,safe",
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\eve\\evil.exe", "evil.exe"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b\x1fc\x7f.txt", "a_b_c_.txt"),
        ("line\r\nbreak.txt", "line__break.txt"),
        ("  .hidden  ", "hidden"),
        ("...", "attachment"),
        ("", "attachment"),
        ("/", "attachment"),
        ('a<b>c:"d|e?f*.txt', "a_b_c__d_e_f_.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # shown as "invoiceexe.pdf" otherwise
        ("re\u200bport\u2066.pdf\u2069", "report.pdf"),
    ],
)
def test_it_makes_filenames_safe(raw, safe):
    assert safe_filename(raw) == safe


def test_it_shortens_a_long_filename_keeping_the_extension():
    name = safe_filename("x" * 500 + ".pdf")

    assert len(name) == 200 and name.endswith(".pdf")


@pytest.mark.parametrize(
    "sender_name",
    ["Dana's invoice.PDF", "../../x.pdf", "evil.sh;rm -rf", "noext", "a.verylongextension"],
)
def test_it_never_uses_the_senders_name_on_disk(sender_name):
    path = attachment_upload_to(None, sender_name)

    assert path.startswith("attachments/")
    stem = path.rsplit("/", 1)[-1]
    assert "invoice" not in stem and ".." not in path and ";" not in path and " " not in path
    assert stem.split(".")[0].isalnum() and len(stem.split(".")[0]) == 32
    if sender_name.endswith(".PDF"):
        assert stem.endswith(".pdf")


@given(st.text(max_size=400))
def test_it_makes_any_name_safe(name):
    safe = safe_filename(name)

    assert safe and len(safe) <= 200
    assert not any(ch in safe for ch in '/\\<>:"|?*') and not safe.startswith(".")
    assert all(ord(ch) >= 32 and ord(ch) != 127 for ch in safe)
    assert not any(unicodedata.category(ch) == "Cf" for ch in safe)


MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def test_it_types_an_email_attachment_by_its_bytes_and_marks_a_program(stored, client, agent):
    attachment = stored("invoice\u202efdp.exe", "application/pdf", MZ)

    assert attachment.filename == "invoicefdp.exe"
    assert attachment.content_type in {"application/x-msdownload", "application/x-dosexec"}
    assert attachment.is_dangerous
    client.force_login(agent)
    page = client.get(f"/agent/tickets/{attachment.message.ticket.number}/").content.decode()
    assert "Program or script: download only" in page
    response = _download(client, attachment)
    assert response["Content-Disposition"].startswith("attachment;")


def test_it_marks_a_script_named_like_a_document_by_its_content(stored):
    script = stored("notes.txt", "text/plain", b"#!/bin/sh\nrm -rf ~\n")

    assert script.content_type == "text/x-script" and script.is_dangerous


def test_it_keeps_the_declared_type_of_content_without_a_magic_number(stored):
    note = stored("notes.txt", "text/plain", b"Just some words.")
    picture = stored("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    assert (note.content_type, note.is_dangerous) == ("text/plain", False)
    assert (picture.content_type, picture.is_dangerous) == ("image/png", False)
