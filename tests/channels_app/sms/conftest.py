"""Fixtures for SMS: a local stand-in for Twilio's REST API, signed webhook posts."""

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from twilio.request_validator import RequestValidator

from channels_app.models import SmsNumber
from tests.channels_app.conftest import PUBLIC
from tests.factories import TeamFactory

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "secret-token-0123456789abcdef"
OUR_NUMBER = "+14155550100"
CUSTOMER_PHONE = "+14155550199"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]

    @property
    def basic_auth(self) -> tuple[str, str]:
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        assert scheme == "Basic"
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


@dataclass
class FakeTwilio:
    """Records every request; answers like Twilio's Messages API (or as told)."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    status: int = 201
    error: dict[str, Any] | None = None
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location (a CDN)
    sent: list[dict[str, Any]] = field(default_factory=list)  # what Messages.json lists
    sid_counter: int = 0

    def message_response(self, form: dict[str, str], path: str) -> dict[str, Any]:
        self.sid_counter += 1
        account = path.split("/Accounts/")[1].split("/")[0]
        return {
            "sid": f"SM{self.sid_counter:032d}",
            "account_sid": account,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": format_datetime(datetime.now(UTC), usegmt=True),
            "uri": f"{path[:-5]}/SM{self.sid_counter:032d}.json",
        }


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _record(self, form: dict[str, str]) -> Recorded:
            rec = Recorded(self.command, self.path, dict(self.headers.items()), form)
            fake.requests.append(rec)
            return rec

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
            self._record(form)
            if fake.error is not None:
                payload = fake.error
                status = fake.status
            else:
                payload, status = fake.message_response(form, self.path), 201
                fake.sent.append(payload)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            rec = self._record({})
            if self.path.split("?")[0].endswith("/Messages.json"):
                query = {k: v[-1] for k, v in parse_qs(self.path.split("?", 1)[-1]).items()}
                listed = [
                    m
                    for m in fake.sent
                    if m["to"] == query.get("To", m["to"])
                    and m["from"] == query.get("From", m["from"])
                ]
                data = json.dumps(
                    {"messages": listed, "next_page_uri": None, "page": 0, "page_size": 50}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if self.path in fake.redirects:
                self.send_response(307)
                self.send_header("Location", fake.redirects[self.path])
                self.end_headers()
                return
            item = fake.media.get(self.path)
            try:
                auth_ok = rec.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
            except AssertionError:
                auth_ok = False
            if item is None or not auth_ok:
                self.send_response(404 if item is None else 401)
                self.end_headers()
                return
            content_type, content = item
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.HELPDESK_TWILIO_API_BASE = fake.url
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sms_number(db: None, public_base: str) -> SmsNumber:
    return SmsNumber.objects.create(
        phone=OUR_NUMBER, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, team=TeamFactory()
    )


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def sms_form(
    body: str = "Hi, my parcel is late",
    *,
    sid: str = "SM" + "a" * 32,
    sender: str = CUSTOMER_PHONE,
    to: str = OUR_NUMBER,
    **extra: str,
) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


@pytest.fixture
def post_signed(client: Any) -> Any:
    """POST a form to a Twilio hook, signed over the public URL unless told otherwise."""

    def post(
        path: str,
        params: dict[str, str],
        *,
        signed_url: str | None = None,
        signature: str | None = None,
        token: str = AUTH_TOKEN,
    ) -> Any:
        if signature is None:
            signature = sign(signed_url or f"{PUBLIC}{path}", params, token)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        # Twilio posts url-encoded forms (the test client would default to multipart).
        return client.post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )

    return post
