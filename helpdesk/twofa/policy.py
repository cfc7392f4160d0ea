"""Who needs a second factor, whether they have one, and the changes to it (each one
recorded in the audit log, docs/trust.md)."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.audit.services import audit_record
from helpdesk.roles import is_admin, is_agent

POLICIES = ("admins", "agents", "off")
RECOVERY_CODES = 10


def has_device(user: Any) -> bool:
    """A confirmed authenticator (recovery codes alone do not count: they come with one)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def must_enrol(user: Any) -> bool:
    """Whether HELPDESK_2FA_REQUIRED asks this user for a second factor."""
    policy = settings.HELPDESK_2FA_REQUIRED
    if policy == "agents":
        return is_agent(user) or is_admin(user)
    if policy == "admins":
        return is_admin(user)
    return False


def confirmed_devices(user: Any) -> list[Any]:
    return list(devices_for_user(user, confirmed=True))


def remove_devices(user: Any) -> None:
    """Turn two-factor off for a user (an admin's reset, or before enrolling again)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def twofa_reset(*, user: Any, actor: Any, request: HttpRequest | None = None) -> bool:
    """An admin turns a user's two-factor sign-in off (a lost phone): the authenticator and
    the recovery codes go, and the user enrols again at their next sign-in if they must.
    False when the user had nothing to remove (nothing is recorded then)."""
    had = TOTPDevice.objects.filter(user=user).exists() or (
        StaticDevice.objects.filter(user=user).exists()
    )
    if not had:
        return False
    remove_devices(user)
    audit_record(
        action="twofa.reset",
        actor=actor,
        target=user,
        request=request,
        summary=f"Two-factor sign-in reset for {user.get_username()}",
    )
    return True


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def new_recovery_codes(user: Any) -> list[str]:
    """Ten fresh single-use codes, replacing any earlier ones; shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = []
    for _ in range(RECOVERY_CODES):
        token = StaticToken.random_token()
        device.token_set.create(token=token)
        codes.append(token)
    return codes
