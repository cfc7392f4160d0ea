"""PUBLIC_BASE_URL: follows `make run PORT=…`, and a wrong one is reported."""

from io import StringIO

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command

from helpdesk.lib.mail import ConsoleSummaryBackend, mail_link
from helpdesk.lib.urls import absolute_url, public_base_url_problems
from helpdesk.management.commands.serve_all import _public_base_url


def test_it_builds_links_on_the_port_serve_all_serves_when_none_is_set(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)

    assert _public_base_url("127.0.0.1", "8123") == "http://127.0.0.1:8123"
    assert _public_base_url("0.0.0.0", "8123") == "http://127.0.0.1:8123"  # noqa: S104
    assert _public_base_url("::1", "9000") == "http://[::1]:9000"


def test_it_keeps_the_public_base_url_the_operator_set(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://help.example.com/")

    assert _public_base_url("127.0.0.1", "8123") == "https://help.example.com"


def test_it_joins_paths_onto_the_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://help.example.com"

    assert absolute_url("/portal/") == "https://help.example.com/portal/"


def test_it_reports_an_unset_or_plain_http_address_in_production(settings, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.ALLOWED_HOSTS = ["help.example.com"]

    problems = public_base_url_problems()

    assert any("PUBLIC_BASE_URL is not set" in p for p in problems)
    assert any("plain http" in p for p in problems)
    assert any("not in ALLOWED_HOSTS" in p for p in problems)


def test_it_finds_nothing_wrong_with_a_matching_https_address(settings, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://help.example.com")
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    settings.ALLOWED_HOSTS = [".example.com"]

    assert public_base_url_problems() == []


def test_it_refuses_an_address_that_is_no_url(settings):
    settings.PUBLIC_BASE_URL = "help.example.com"

    assert "is not an http(s) address" in public_base_url_problems()[0]


@pytest.mark.django_db
def test_it_warns_in_check_deploy_about_a_mismatched_address(settings, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://help.example.com")
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    settings.ALLOWED_HOSTS = ["desk.internal"]
    out = StringIO()

    call_command("check", "--deploy", stdout=out, stderr=out)

    assert "helpdesk.W001" in out.getvalue()
    assert "'help.example.com' is not in ALLOWED_HOSTS" in out.getvalue()


@pytest.mark.django_db
def test_it_reports_the_address_in_healthz_without_failing_the_server(client, settings):
    settings.PUBLIC_BASE_URL = "https://elsewhere.example.net"

    body = client.get("/healthz").json()

    assert body["config"]["ok"] is False
    assert body["config"]["public_base_url"] == "https://elsewhere.example.net"
    assert "config" not in body["failing"]


def test_it_prints_one_line_per_mail_with_the_magic_link():
    out = StringIO()
    backend = ConsoleSummaryBackend(stream=out)
    message = EmailMessage(
        subject="[#1001] We got your request:\n  parcel",
        body="See the ticket http://127.0.0.1:8123/kb/ or sign in: "
        "http://127.0.0.1:8123/portal/login/abc.def/\n",
        to=["dana@example.com"],
    )

    assert backend.send_messages([message]) == 1

    assert out.getvalue() == (
        "Mail to dana@example.com: [#1001] We got your request: parcel  →  "
        "http://127.0.0.1:8123/portal/login/abc.def/\n"
    )


def test_it_prints_a_mail_without_links_and_skips_one_without_recipients():
    out = StringIO()
    backend = ConsoleSummaryBackend(stream=out)

    sent = backend.send_messages([EmailMessage("Hi", "No link.", to=["a@b.test"]), EmailMessage()])

    assert sent == 1
    assert out.getvalue() == "Mail to a@b.test: Hi\n"
    assert mail_link("text http://x.test/agent/tickets/5/ and http://x.test/") == (
        "http://x.test/agent/tickets/5/"
    )


@pytest.mark.django_db
def test_it_sends_no_mail_while_seeding_the_demo(settings):
    settings.DEBUG = True
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    out = StringIO()

    call_command("seed_demo", "--if-empty", stdout=out)

    assert "Demo loaded" in out.getvalue()
    assert mail.outbox == []
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
