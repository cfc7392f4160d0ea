"""SMS media links come in the webhook's form: they are fetched only from the provider's
API host, and the account's credentials never go anywhere else."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from helpdesk.lib.ssrf import UnsafeUrl, address_is_public, url_vet
from tests.channels_app.sms.conftest import ACCOUNT_SID, sms_form
from tickets.models import Message

pytestmark = pytest.mark.django_db
HOOK = "/hooks/twilio/sms/"


@pytest.fixture
def elsewhere() -> Any:
    """Another server on this machine, as an attacker would name in MediaUrl0."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(dict(self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_it_sends_no_request_and_no_credentials_to_a_media_link_on_another_host(
    sms_number, post_signed, fake_twilio, elsewhere, django_capture_on_commit_callbacks
):
    url, seen = elsewhere
    params = sms_form(
        "see attached", NumMedia="1", MediaUrl0=f"{url}/steal", MediaContentType0="image/png"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(HOOK, params)

    assert response.status_code == 200
    message = Message.objects.get()
    assert f"Media: {url}/steal" in message.body_text  # kept as a link for the agent
    assert not message.attachments.exists()
    assert seen == []


def test_it_follows_the_providers_redirect_without_credentials_and_only_to_public_https(
    sms_number, post_signed, fake_twilio, elsewhere, django_capture_on_commit_callbacks, caplog
):
    from channels_app.sms.services import sms_media_fetch

    url, seen = elsewhere
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM9/Media/ME9"
    fake_twilio.redirects = {path: f"{url}/cdn/ME9"}
    params = sms_form("", NumMedia="1", MediaUrl0=f"{fake_twilio.url}{path}")
    with django_capture_on_commit_callbacks(execute=False):
        post_signed(HOOK, params)
    message = Message.objects.get()

    assert sms_media_fetch(message_id=message.pk, number_id=sms_number.pk) == 0

    assert seen == []  # the redirect to a loopback http address was refused
    assert "Only https URLs are fetched" in caplog.text


INTERNAL = (
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "169.254.169.254",  # a cloud's metadata service
    "::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
    "224.0.0.1",
)


@pytest.mark.parametrize("address", INTERNAL)
def test_it_calls_internal_addresses_internal(address):
    assert address_is_public(address) is False


def test_it_calls_a_public_address_public():
    assert address_is_public("93.184.216.34") and address_is_public("2606:4700::1111")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com/x", "Only https URLs"),
        ("https://user:pw@example.com/", "carries credentials"),
        ("https://localhost/", "internal address"),
        ("https://127.0.0.1:8931/", "internal address"),
        ("https://nonexistent.invalid/", "cannot be resolved"),
    ],
)
def test_it_refuses_unsafe_urls_naming_why(url, problem):
    with pytest.raises(UnsafeUrl, match=problem):
        url_vet(url)
