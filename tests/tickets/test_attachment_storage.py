"""Attachments behave the same on the local filesystem and on S3-compatible storage
(HELPDESK_STORAGE_URL, helpdesk/lib/storage.py): every test here runs on both, the S3 one
against a real S3 server on loopback (moto's server mode, tests/s3.py).

Stored by every way in (ingest, an agent's reply, the web form's staging), typed by their
bytes, served only through the permission-checked downloads (streamed from the bucket),
mailed from storage, and private in the bucket."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from channels_app.inbound import IncomingFile
from channels_app.models import RawInbound
from tests.s3 import s3_bucket, s3_keys, s3_server  # noqa: F401  (fixtures by name)
from tests.tickets.portal.conftest import form_data, portal_client  # noqa: F401  (a fixture)
from tickets.models import Attachment, Message
from tickets.services import NewFile, message_reply

pytestmark = pytest.mark.django_db

MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """None on the filesystem; the bucket on S3."""
    if request.param == "s3":
        return request.getfixturevalue("s3_bucket")
    return None


def _on_disk() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _where(backend: dict | None, attachment: Attachment) -> None:
    """The bytes are where the configuration says, and only there."""
    if backend is None:
        assert (Path(settings.MEDIA_ROOT) / attachment.file.name).is_file()
    else:
        assert backend["prefix"] + attachment.file.name in s3_keys(backend)
        assert _on_disk() == []


@pytest.fixture
def stored(ingest: Any) -> Any:
    def store(filename: str, content_type: str, content: bytes) -> Attachment:
        result = ingest(
            external_id=filename, attachments=(IncomingFile(filename, content_type, content),)
        )
        return result.message.attachments.get()

    return store


def _download(user: Any, attachment: Attachment) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(f"/agent/attachments/{attachment.pk}/")


def test_an_ingested_attachment_is_stored_and_streamed_back_to_an_agent(
    backend: dict | None, stored: Any, agent: Any
) -> None:
    content = b"a,b\n" + b"1,2\n" * 50_000  # a few hundred kB: more than one chunk
    attachment = stored("report.csv", "text/csv", content)
    _where(backend, attachment)
    assert "report" not in attachment.file.name  # never the sender's name as the key

    response = _download(agent, attachment)

    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "private, no-store"
    if backend is not None:  # streamed from the object's body, its length known up front
        assert response["Content-Length"] == str(len(content))


def test_html_is_never_served_as_renderable(backend: dict | None, stored: Any, agent: Any) -> None:
    attachment = stored("page.html", "text/html", b"<html><script>alert(1)</script></html>")
    response = _download(agent, attachment)
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content).startswith(b"<html>")


def test_a_program_is_typed_by_its_bytes_and_marked(
    backend: dict | None, stored: Any, agent: Any
) -> None:
    attachment = stored("invoice\u202efdp.exe", "application/pdf", MZ)
    assert attachment.content_type in {"application/x-msdownload", "application/x-dosexec"}
    assert attachment.is_dangerous
    assert b"".join(_download(agent, attachment).streaming_content) == MZ


def test_a_missing_file_is_a_404(backend: dict | None, stored: Any, agent: Any) -> None:
    attachment = stored("report.csv", "text/csv", b"x")
    default_storage.delete(attachment.file.name)
    assert _download(agent, attachment).status_code == 404


def test_downloads_stay_behind_the_permission_checks(
    backend: dict | None, stored: Any, django_user_model: Any
) -> None:
    attachment = stored("report.csv", "text/csv", b"secret")
    assert Client().get(f"/agent/attachments/{attachment.pk}/").status_code == 302
    outsider = django_user_model.objects.create_user("outsider")
    response = _download(outsider, attachment)
    assert response.status_code == 403 and b"secret" not in response.content


def test_the_customer_downloads_their_attachment_from_the_portal(
    backend: dict | None, stored: Any, customer: Any
) -> None:
    attachment = stored("photo.png", "image/png", PNG)
    client = portal_client(customer.pk, "dana@example.com")
    response = client.get(f"/portal/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_an_agents_attachment_is_stored_and_mailed_from_storage(
    backend: dict | None, ticket: Any, agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = message_reply(
            ticket=ticket,
            author=agent,
            body_text="Your label is attached.",
            attachments=[NewFile("label.pdf", "application/pdf", b"%PDF-1.4 label")],
        )
    attachment = message.attachments.get()
    _where(backend, attachment)
    (sent,) = mail.outbox
    assert sent.attachments[0][0:2] == ("label.pdf", b"%PDF-1.4 label")


def test_the_web_form_stages_uploads_in_storage_and_removes_them(
    backend: dict | None,
    client: Client,
    form_data: Any,  # noqa: F811
) -> None:
    upload = SimpleUploadedFile("screenshot.txt", PNG, content_type="text/plain")
    assert client.post("/support/new/", {**form_data(), "attachments": [upload]}).status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png"
    _where(backend, attachment)
    staged = json.loads(bytes(RawInbound.objects.get().payload))["attachments"][0]["path"]
    assert not default_storage.exists(staged)
    if backend is not None:
        assert s3_keys(backend) == [backend["prefix"] + attachment.file.name]


def test_objects_in_the_bucket_are_private(s3_bucket: dict, stored: Any) -> None:  # noqa: F811
    attachment = stored("report.csv", "text/csv", b"a,b\n")
    key = s3_bucket["prefix"] + attachment.file.name
    grants = s3_bucket["client"].get_object_acl(Bucket=s3_bucket["name"], Key=key)["Grants"]
    assert [g["Grantee"].get("URI") for g in grants if "URI" in g["Grantee"]] == []
    assert all(g["Permission"] == "FULL_CONTROL" for g in grants)  # the owner's only
    # A plain GET of the object, without credentials, is refused.
    import urllib.error
    import urllib.request

    endpoint = s3_bucket["client"].meta.endpoint_url
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{endpoint}/{s3_bucket['name']}/{key}")  # noqa: S310
    assert refused.value.code == 403
    assert Message.objects.count() == 1


def test_erasing_the_customer_deletes_their_files_from_storage(
    backend: dict | None,
    stored: Any,
    customer: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tickets.privacy import customer_erase

    attachment = stored("photo.png", "image/png", PNG)
    name = attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer, actor=None)
    assert not default_storage.exists(name)
    if backend is not None:
        assert s3_keys(backend) == []
