import hashlib
import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from channels_app.inbound import ParseError
from channels_app.web.adapter import parse
from tests.factories import PNG


def _payload(**overrides):
    data = {
        "submission_id": "abc",
        "email": "a@example.com",
        "name": "A",
        "subject": "S",
        "description": "D",
        "received_at": timezone.now().isoformat(),
        "attachments": [],
    }
    data.update(overrides)
    return json.dumps(data).encode()


def test_it_parses_a_web_payload_with_a_staged_file():
    path = default_storage.save("inbound/web/test/file", ContentFile(PNG))
    entry = {
        "path": path,
        "filename": "a.png",
        "content_type": "image/png",
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }

    message = parse(_payload(attachments=[entry], ticket_reference="tok"), {})

    assert message.channel == "web" and message.sender.value == "a@example.com"
    assert message.external_id.startswith("web:abc:") and message.ticket_reference == "tok"
    assert message.attachments[0].content == PNG


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"\xff", "not valid UTF-8 JSON"),
        (b"[1]", "must be a JSON object"),
        (_payload(description=""), "“description” is required"),
        (_payload(received_at="yesterday"), "ISO 8601"),
        (_payload(priority="asap"), "“priority” must be one of"),
        (_payload(attachments=[{"path": "/etc/passwd", "sha256": "x"}]), "outside the web staging"),
        (
            _payload(attachments=[{"path": "inbound/web/../x", "sha256": "x"}]),
            "outside the web staging",
        ),
        (_payload(attachments=[{"path": "inbound/web/missing", "sha256": "x"}]), "is missing"),
    ],
)
def test_it_refuses_unreadable_payloads_with_a_reason(payload, error):
    with pytest.raises(ParseError) as err:
        parse(payload, {})

    assert error in str(err.value)


def test_it_refuses_a_staged_file_that_changed():
    path = default_storage.save("inbound/web/test/changed", ContentFile(PNG))
    entry = {"path": path, "sha256": hashlib.sha256(b"other").hexdigest()}

    with pytest.raises(ParseError, match="does not match its checksum"):
        parse(_payload(attachments=[entry]), {})
