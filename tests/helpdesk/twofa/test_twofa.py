"""Two-factor sign-in after the password, on the agent and the admin login; recovery
codes; who must enrol; HTTP Basic refused for enrolled users; wrong codes lock out."""

import base64
import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.auth import remembered_forget_all
from helpdesk.twofa.policy import new_recovery_codes
from tests.factories import AdminFactory, AgentFactory
from tests.twofa import enrol, key_code, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings):
    remembered_forget_all()
    settings.HELPDESK_2FA_REQUIRED = "admins"
    # django-otp delays a device after each wrong code (1 s, 2 s, 4 s...); the tests
    # type the right code straight after a wrong one.
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    yield
    remembered_forget_all()


def _password(client: Client, username: str, path: str = "/agent/login/", **extra):
    return client.post(path, {"username": username, "password": "pw", **extra})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_an_agent_without_a_device_signs_in_with_the_password_alone(client):
    AgentFactory(username="alex", password="pw")
    response = _password(client, "alex")
    assert response.status_code == 302 and response["Location"] == "/agent/"
    assert _signed_in(client)


def test_a_device_means_a_code_after_the_password(client):
    device = enrol(AgentFactory(username="alex", password="pw"))
    response = _password(client, "alex", next="/agent/search/")
    assert response["Location"] == "/agent/2fa/verify/"
    assert not _signed_in(client)
    # The password alone opens nothing.
    assert client.get("/agent/")["Location"].startswith("/agent/login/")

    wrong = client.post(
        "/agent/2fa/verify/", {"code": "000000" if totp_code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert not _signed_in(client)

    right = client.post("/agent/2fa/verify/", {"code": totp_code(device)})
    assert right.status_code == 302 and right["Location"] == "/agent/search/"
    assert _signed_in(client) and client.session.get("otp_device_id") == device.persistent_id
    assert client.get("/agent/").status_code == 200


def test_the_same_code_does_not_sign_in_twice(client):
    device = enrol(AgentFactory(username="alex", password="pw"))
    code = totp_code(device)
    _password(client, "alex")
    assert client.post("/agent/2fa/verify/", {"code": code}).status_code == 302
    other = Client()
    _password(other, "alex")
    assert other.post("/agent/2fa/verify/", {"code": code}).status_code == 400


def test_a_recovery_code_works_once(client):
    user = AgentFactory(username="alex", password="pw")
    enrol(user)
    codes = new_recovery_codes(user)
    assert len(codes) == 10 and len(set(codes)) == 10
    _password(client, "alex")
    assert client.post("/agent/2fa/verify/", {"code": codes[3]}).status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9

    again = Client()
    _password(again, "alex")
    assert again.post("/agent/2fa/verify/", {"code": codes[3]}).status_code == 400
    assert again.post("/agent/2fa/verify/", {"code": codes[4]}).status_code == 302


def test_an_admin_without_a_device_is_sent_to_enrolment_then_signed_in(client):
    admin = AdminFactory(username="root", password="pw", is_staff=True)
    response = _password(client, "root")
    assert response["Location"] == "/agent/2fa/setup/"
    assert not _signed_in(client)
    page = client.get("/agent/2fa/setup/").content.decode()
    assert "<svg" in page and "needs a second factor" in page
    key = re.search(r'id="twofa-key">([A-Z2-7]+)<', page).group(1)
    # Reloading keeps the same key (the person may be scanning it).
    assert key in client.get("/agent/2fa/setup/").content.decode()

    assert client.post("/agent/2fa/setup/", {"code": "12345"}).status_code == 400
    assert not _signed_in(client)
    confirmed = client.post("/agent/2fa/setup/", {"code": key_code(key)})
    assert confirmed["Location"] == "/agent/2fa/codes/"
    assert _signed_in(client)
    device = TOTPDevice.objects.get(user=admin)
    assert device.confirmed and base64.b32encode(device.bin_key).decode().rstrip("=") == key

    codes_page = client.get("/agent/2fa/codes/").content.decode()
    shown = re.findall(r"<li><code>(\w+)</code></li>", codes_page)
    assert len(shown) == 10
    assert sorted(shown) == sorted(
        StaticToken.objects.filter(device__user=admin).values_list("token", flat=True)
    )
    # Shown once.
    assert client.get("/agent/2fa/codes/")["Location"] == "/agent/2fa/"


def test_the_admin_login_asks_for_the_code_too(client):
    device = enrol(AdminFactory(username="root", password="pw", is_staff=True))
    response = _password(client, "root", "/admin/login/", next="/admin/")
    assert response["Location"] == "/agent/2fa/verify/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.post("/agent/2fa/verify/", {"code": totp_code(device)})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_page_still_renders_and_refuses_non_staff(client):
    assert client.get("/admin/login/").status_code == 200
    AgentFactory(username="alex", password="pw")
    response = _password(client, "alex", "/admin/login/")
    assert response.status_code == 200 and not _signed_in(client)


def test_the_setting_can_require_every_agent_or_nobody(client, settings):
    AgentFactory(username="alex", password="pw")
    settings.HELPDESK_2FA_REQUIRED = "agents"
    assert _password(client, "alex")["Location"] == "/agent/2fa/setup/"
    settings.HELPDESK_2FA_REQUIRED = "off"
    AdminFactory(username="root", password="pw")
    assert _password(Client(), "root")["Location"] == "/agent/"


def test_a_stale_password_step_starts_over(client, time_machine):
    enrol(AgentFactory(username="alex", password="pw"))
    time_machine.move_to("2030-01-01 12:00:00", tick=False)
    _password(client, "alex")
    time_machine.move_to("2030-01-01 12:06:00", tick=False)
    assert client.get("/agent/2fa/verify/")["Location"] == "/agent/login/"


def test_an_unsafe_next_is_not_followed(client):
    device = enrol(AgentFactory(username="alex", password="pw"))
    _password(client, "alex", next="https://evil.example/")
    assert client.post("/agent/2fa/verify/", {"code": totp_code(device)})["Location"] == "/agent/"


def test_wrong_codes_count_towards_the_lockout(client, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    device = enrol(AgentFactory(username="alex", password="pw"))
    _password(client, "alex")
    bad = "000000" if totp_code(device) != "000000" else "111111"
    assert client.post("/agent/2fa/verify/", {"code": bad}).status_code == 400
    assert client.post("/agent/2fa/verify/", {"code": bad}).status_code == 400
    locked = client.post("/agent/2fa/verify/", {"code": bad})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    # The right password and code do not get in while locked.
    assert _password(Client(), "alex").status_code == 429
    assert not _signed_in(client)


def test_a_right_code_resets_the_failures(client, settings):
    from axes.models import AccessAttempt

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    device = enrol(AgentFactory(username="alex", password="pw"))
    _password(client, "alex")
    client.post("/agent/2fa/verify/", {"code": "abc"})
    assert AccessAttempt.objects.filter(username="alex").exists()
    assert client.post("/agent/2fa/verify/", {"code": totp_code(device)}).status_code == 302
    assert not AccessAttempt.objects.filter(username="alex").exists()


def test_http_basic_is_refused_for_a_user_with_a_device(client):
    AgentFactory(username="alex", password="pw")
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"alex:pw").decode()}
    assert client.get("/api/v1/tickets/", **auth).status_code == 200
    enrol(AgentFactory._meta.model.objects.get(username="alex"))
    refused = client.get("/api/v1/tickets/", **auth)
    # Refused as a wrong password is: 401 in the API's error shape.
    wrong = client.get(
        "/api/v1/tickets/",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"alex:nope").decode(),
    )
    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["error"]["code"] == wrong.json()["error"]["code"]
    assert "two-factor" in refused.json()["error"]["message"]


def test_a_signed_in_agent_enrols_from_the_manage_page(client):
    user = AgentFactory(username="alex", password="pw")
    client.force_login(user)
    assert "Set it up" in client.get("/agent/2fa/").content.decode()
    page = client.get("/agent/2fa/setup/").content.decode()
    key = re.search(r'id="twofa-key">([A-Z2-7]+)<', page).group(1)
    assert (
        client.post("/agent/2fa/setup/", {"code": key_code(key)})["Location"] == "/agent/2fa/codes/"
    )
    first = re.findall(
        r"<li><code>(\w+)</code></li>", client.get("/agent/2fa/codes/").content.decode()
    )
    assert "is on" in client.get("/agent/2fa/").content.decode()
    # New recovery codes replace the old ones.
    client.post("/agent/2fa/", {"action": "new-codes"})
    second = re.findall(
        r"<li><code>(\w+)</code></li>", client.get("/agent/2fa/codes/").content.decode()
    )
    assert len(second) == 10 and not set(first) & set(second)
    assert StaticDevice.objects.filter(user=user).count() == 1


def test_an_admin_resets_two_factor_in_the_admin(admin_client):
    user = AgentFactory(username="alex", password="pw")
    device = enrol(user)
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/delete/")
    assert page.status_code == 200
    admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert _password(Client(), "alex")["Location"] == "/agent/"
