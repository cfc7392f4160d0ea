"""Two-factor sign-in in a real Chromium: an admin is sent from the password to
enrolment, scans (reads) the key, confirms, sees the recovery codes once; signs out and
in with the authenticator's code, then with a recovery code; the admin login asks too."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.twofa import key_code

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.timeout(180)]


def _password(page: Any, base: str, path: str = "/agent/login/") -> None:
    page.goto(f"{base}{path}")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("[type=submit]")


def _code(page: Any, code: str) -> None:
    page.fill("#id_code", code)
    page.click("button[type=submit]")


def test_an_admin_enrols_and_signs_in_with_a_code_and_a_recovery_code(
    live_url: str, browser: Any, settings: Any, admin_user: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()

    # Enforced for admins: the password leads to enrolment, not the queue.
    _password(page, live_url)
    page.wait_for_url(f"{live_url}/agent/2fa/setup/")
    expect(page.locator(".twofa-qr svg")).to_be_visible()
    page.goto(f"{live_url}/agent/")
    assert "/agent/login/" in page.url  # not signed in yet
    page.goto(f"{live_url}/agent/2fa/setup/")
    key = page.inner_text("#twofa-key")
    _code(page, "000000" if key_code(key) != "000000" else "111111")
    expect(page.locator("[role=alert]")).to_contain_text("did not match")
    _code(page, key_code(key))
    page.wait_for_url(f"{live_url}/agent/2fa/codes/")
    codes = [c.strip() for c in page.locator(".twofa-codes code").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"\w{8,}", c) for c in codes)
    page.click("text=I have saved them, continue")
    page.wait_for_url(f"{live_url}/agent/")  # signed in, where the login was headed
    expect(page.locator(".agent-logout")).to_be_visible()
    page.click(".agent-logout button")
    page.wait_for_url(re.compile(r".*/agent/login/"))

    # Signing in again asks for the code; the next step's code (this one was used).
    _password(page, live_url)
    page.wait_for_url(f"{live_url}/agent/2fa/verify/")
    _code(page, key_code(key, steps_ahead=1))
    page.wait_for_url(f"{live_url}/agent/")
    page.click(".agent-logout button")
    page.wait_for_url(re.compile(r".*/agent/login/"))

    # A recovery code, through the admin login this time; it works once.
    _password(page, live_url, "/admin/login/?next=/admin/")
    page.wait_for_url(f"{live_url}/agent/2fa/verify/")
    _code(page, codes[0])
    page.wait_for_url(f"{live_url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    context.close()

    again = browser.new_context().new_page()
    _password(again, live_url)
    again.wait_for_url(f"{live_url}/agent/2fa/verify/")
    _code(again, codes[0])
    expect(again.locator("[role=alert]")).to_contain_text("already used")
    assert again.url == f"{live_url}/agent/2fa/verify/"
