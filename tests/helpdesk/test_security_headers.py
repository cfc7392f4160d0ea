"""Content-Security-Policy and Permissions-Policy on the pages the app serves."""

import re

import pytest

from tests.csp import csp_watch
from tests.factories import AgentFactory
from tests.live_server import BROWSER_ARGS

pytestmark = pytest.mark.django_db


def test_it_sends_a_strict_script_policy_and_a_permissions_policy_on_customer_pages(client):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy and "base-uri 'self'" in policy
    assert "camera=()" in response["Permissions-Policy"]


def test_it_lets_the_workspaces_one_inline_script_run_by_its_nonce(client):
    client.force_login(AgentFactory())

    response = client.get("/agent/")

    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()


def test_it_keeps_the_sandbox_policy_of_an_attachment_download(client, settings, tmp_path):
    from tests.factories import TicketFactory
    from tickets.models import Channel, Direction, Message
    from tickets.services import NewFile, attachment_store

    ticket = TicketFactory()
    message = Message.objects.create(
        ticket=ticket, channel=Channel.EMAIL, direction=Direction.INBOUND, body_text="x"
    )
    attachment = attachment_store(message=message, file=NewFile("a.html", "text/html", b"<b>"))
    client.force_login(AgentFactory())

    response = client.get(f"/agent/attachments/{attachment.pk}/")

    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.browser
def test_it_makes_chromium_refuse_an_injected_inline_script(live_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS
        )
        seen = csp_watch(chromium)
        page = chromium.new_page()
        page.goto(f"{live_url}/")
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"""
        )
        ran = page.evaluate("() => window.injected === 1")
        chromium.close()

    assert ran is False
    assert any("Content Security Policy" in text for text in seen), seen
