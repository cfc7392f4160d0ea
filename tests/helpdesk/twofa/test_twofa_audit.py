"""Two-factor events in the audit log (docs/trust.md): enrolment, new recovery codes, a
wrong code, a recovery code used, a signed-in second step, and an admin's reset or
deletion of a user's devices."""

import re
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.audit.models import AuditEntry
from helpdesk.auth import remembered_forget_all
from helpdesk.twofa.policy import new_recovery_codes
from tests.factories import AdminFactory, AgentFactory
from tests.twofa import enrol, key_code, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Any:
    remembered_forget_all()
    settings.HELPDESK_2FA_REQUIRED = "admins"
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    yield
    remembered_forget_all()


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def _entry(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def _pending(username: str) -> Client:
    client = Client()
    client.post("/agent/login/", {"username": username, "password": "pw"})
    return client


def test_enrolment_is_recorded(client: Client) -> None:
    user = AgentFactory(username="alex", password="pw")
    client.force_login(user)
    page = client.get("/agent/2fa/setup/").content.decode()
    key = re.search(r'id="twofa-key">([A-Z2-7]+)<', page).group(1)  # type: ignore[union-attr]
    assert client.post("/agent/2fa/setup/", {"code": key_code(key)}).status_code == 302
    entry = _entry("twofa.enrol")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        user.pk,
        "auth.user",
        str(user.pk),
    )
    assert entry.ip == "127.0.0.1"


def test_a_refused_enrolment_code_records_no_enrolment(client: Client) -> None:
    client.force_login(AgentFactory(username="alex", password="pw"))
    client.get("/agent/2fa/setup/")
    assert client.post("/agent/2fa/setup/", {"code": "000000"}).status_code == 400
    assert "twofa.enrol" not in _actions()


def test_new_recovery_codes_are_recorded(client: Client) -> None:
    user = AgentFactory(username="alex", password="pw")
    enrol(user)
    client.force_login(user)
    client.post("/agent/2fa/", {"action": "new-codes"})
    assert _entry("twofa.recovery_codes_new").actor_id == user.pk


def test_a_wrong_code_is_recorded_as_a_failed_second_step_not_a_wrong_password() -> None:
    device = enrol(AgentFactory(username="alex", password="pw"))
    client = _pending("alex")
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    assert client.post("/agent/2fa/verify/", {"code": wrong}).status_code == 400
    entry = _entry("twofa.failed")
    assert entry.actor_name == "alex" and "Wrong two-factor code" in entry.summary
    assert "auth.login_failed" not in _actions()


def test_a_wrong_password_is_still_a_failed_sign_in() -> None:
    AgentFactory(username="alex", password="pw")
    Client().post("/agent/login/", {"username": "alex", "password": "nope"})
    assert _actions() == ["auth.login_failed"]


def test_a_sign_in_with_the_authenticator_is_recorded() -> None:
    user = AgentFactory(username="alex", password="pw")
    device = enrol(user)
    client = _pending("alex")
    assert client.post("/agent/2fa/verify/", {"code": totp_code(device)}).status_code == 302
    assert _entry("twofa.login").data == {"method": "authenticator"}
    assert _entry("twofa.login").actor_id == user.pk
    assert "auth.login" in _actions() and "twofa.recovery_code_used" not in _actions()


def test_a_recovery_code_used_is_recorded_with_the_codes_left() -> None:
    user = AgentFactory(username="alex", password="pw")
    enrol(user)
    codes = new_recovery_codes(user)
    client = _pending("alex")
    assert client.post("/agent/2fa/verify/", {"code": codes[0]}).status_code == 302
    used = _entry("twofa.recovery_code_used")
    assert used.data == {"codes_left": 9} and used.actor_id == user.pk
    assert _entry("twofa.login").data == {"method": "recovery_code"}


# --- an admin's reset -------------------------------------------------------------------


@pytest.fixture
def admin_client() -> tuple[Client, Any]:
    admin = AdminFactory(username="root", is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client, admin


def test_an_admin_resets_a_users_two_factor_from_the_user_list(admin_client: tuple) -> None:
    client, admin = admin_client
    user = AgentFactory(username="alex", password="pw")
    enrol(user)
    new_recovery_codes(user)
    bare = AgentFactory(username="bea")
    response = client.post(
        "/admin/auth/user/",
        {"action": "twofa_reset_action", "_selected_action": [user.pk, bare.pk]},
        follow=True,
    )
    assert "Two-factor sign-in reset for alex" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    entry = _entry("twofa.reset")  # one entry: bea had nothing to reset
    assert (entry.actor_id, entry.target_id) == (admin.pk, str(user.pk))


def test_the_reset_says_when_nobody_had_two_factor(admin_client: tuple) -> None:
    client, _ = admin_client
    bare = AgentFactory(username="bea")
    response = client.post(
        "/admin/auth/user/",
        {"action": "twofa_reset_action", "_selected_action": [bare.pk]},
        follow=True,
    )
    assert "None of them had two-factor sign-in set up." in response.content.decode()
    assert "twofa.reset" not in _actions()


def test_deleting_a_device_in_the_admin_is_recorded(admin_client: tuple) -> None:
    client, admin = admin_client
    user = AgentFactory(username="alex", password="pw")
    device = enrol(user)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    entry = _entry("twofa.disable")
    assert (entry.actor_id, entry.target_id) == (admin.pk, str(user.pk))
    assert entry.data == {"device": "otp_totp.totpdevice"}
    assert "Test phone" in entry.summary
