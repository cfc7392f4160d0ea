"""Files with a reply or note (multipart POST /api/v1/tickets/<n>/replies/) and
GET /api/v1/attachments/<id>/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from helpdesk.audit.models import AuditEntry
from tests.factories import IdentityFactory, TicketFactory
from tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture
def writer(agent, token_client):
    return token_client(agent, "tickets:read", "tickets:write")


@pytest.fixture
def ticket():
    ticket = TicketFactory(status="open")
    IdentityFactory(customer=ticket.customer, value="kim@example.com")
    return ticket


def _reply(client, ticket, *files, **fields):
    data = {"body_text": "See the photo", "is_internal": "true", **fields}
    if files:
        data["attachments"] = list(files)
    return client.post(f"/api/v1/tickets/{ticket.number}/replies/", data, format="multipart")


def test_a_note_with_files_stores_them_typed_by_their_content(writer, ticket):
    response = _reply(
        writer,
        ticket,
        SimpleUploadedFile("photo.png", PNG, content_type="application/pdf"),
        SimpleUploadedFile("notes.txt", b"plain words", content_type="text/plain"),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_internal"] is True
    files = {a["filename"]: a for a in body["attachments"]}
    assert files["photo.png"]["content_type"] == "image/png"  # the bytes, not the claim
    assert files["notes.txt"]["size"] == len(b"plain words")
    assert files["photo.png"]["url"].endswith(f"/api/v1/attachments/{files['photo.png']['id']}/")
    assert Attachment.objects.filter(message__ticket=ticket).count() == 2


def test_a_public_reply_may_carry_only_a_file(writer, ticket):
    response = _reply(
        writer, ticket, SimpleUploadedFile("photo.png", PNG), body_text="", is_internal="false"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["direction"] == "outbound" and response.json()["attachments"]


@pytest.mark.parametrize(
    "name,content", [("setup.exe", EXE), ("invoice.pdf", EXE), ("run.sh", b"echo hi")]
)
def test_a_program_or_script_is_refused_by_content_or_name(writer, ticket, name, content):
    response = _reply(writer, ticket, SimpleUploadedFile(name, content))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "executable" and name in error["message"]
    assert not Message.objects.filter(ticket=ticket).exists()


@override_settings(HELPDESK_WEB_MAX_FILE_BYTES=1000)
def test_a_file_over_the_limit_is_413_and_nothing_is_stored(writer, ticket):
    response = _reply(writer, ticket, SimpleUploadedFile("big.txt", b"x" * 1001))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_big"
    assert "big.txt" in response.json()["error"]["message"]
    assert not Message.objects.filter(ticket=ticket).exists()


@override_settings(HELPDESK_WEB_MAX_FILES=1, HELPDESK_WEB_MAX_FILE_BYTES=1000)
def test_a_body_over_every_allowed_file_is_refused_by_its_declared_length(writer, ticket):
    response = writer.post(
        f"/api/v1/tickets/{ticket.number}/replies/",
        data=b"x",
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
    )

    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_big"


@override_settings(HELPDESK_WEB_MAX_FILES=1)
def test_too_many_files_are_refused(writer, ticket):
    response = _reply(
        writer, ticket, SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")
    )

    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_files"


def test_an_empty_file_is_refused(writer, ticket):
    response = _reply(writer, ticket, SimpleUploadedFile("empty.txt", b""))

    assert response.status_code == 400 and response.json()["error"]["code"] == "empty_file"


def test_a_download_is_the_file_as_an_attachment_and_is_audited(writer, ticket, agent):
    created = _reply(writer, ticket, SimpleUploadedFile("photo.png", PNG)).json()
    url = created["attachments"][0]["url"].split("testserver")[-1]
    url = url[url.index("/api/") :]

    response = writer.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(action="data.attachment_download")
    assert entry.actor_id == agent.pk


def test_another_teams_attachment_is_404(teams, token_client, agent):
    own = token_client(agent, "tickets:read", "tickets:write")
    created = _reply(own, teams["theirs"], SimpleUploadedFile("a.txt", b"secret")).json()
    rita = token_client(teams["rita"], "tickets:read")

    response = rita.get(f"/api/v1/attachments/{created['attachments'][0]['id']}/")
    missing = rita.get("/api/v1/attachments/999999/")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert missing.status_code == 404


def test_uploading_needs_the_write_scope_and_downloading_the_read_scope(
    agent, token_client, ticket, writer
):
    created = _reply(writer, ticket, SimpleUploadedFile("a.txt", b"abc")).json()
    customers_only = token_client(agent, "customers:read")

    upload = _reply(customers_only, ticket, SimpleUploadedFile("b.txt", b"b"))
    download = customers_only.get(f"/api/v1/attachments/{created['attachments'][0]['id']}/")

    assert upload.status_code == 403 and "`tickets:write`" in upload.json()["error"]["message"]
    assert download.status_code == 403 and "`tickets:read`" in download.json()["error"]["message"]
    assert Attachment.objects.count() == 1
