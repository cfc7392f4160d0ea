"""Test helpers for two-factor sign-in: a confirmed authenticator for a user, and the
codes it shows, computed from the device's key as an authenticator app does."""

import time
from typing import Any

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the app shows now, or `steps_ahead` 30-second steps later (django-otp
    accepts one step of drift, and never the same step twice)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def key_code(key_b32: str, steps_ahead: int = 0) -> str:
    """The code for a base32 key as the enrolment page shows it."""
    import base64

    padded = key_b32 + "=" * (-len(key_b32) % 8)
    totp = TOTP(base64.b32decode(padded))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"
