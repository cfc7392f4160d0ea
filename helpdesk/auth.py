"""HTTP Basic for the API without a password hash on every request.

Basic sends the password with every request, and Django's hash is slow on purpose
(PBKDF2, a million rounds: a second of CPU on a busy two-core host), so an integration
polling the API spent that on every call, and under load every API client waited behind
it. A username and password that verified are remembered, in this process and for a few
minutes, under a digest keyed with SECRET_KEY (never the password), together with the
user's stored password hash. Every reuse reloads the user and compares: a password change,
a deactivation, a rename or a deletion takes effect on the next request. Failed attempts
are never remembered, so each wrong guess still costs a full hash.

Process memory rather than the shared cache: the digests never leave the process, and the
API keeps authenticating while Redis is down; each web process verifies a pair once.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.crypto import constant_time_compare, salted_hmac
from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from helpdesk.twofa.policy import has_device

# How long a verified username and password are taken on trust, and how many are kept.
REMEMBER_SECONDS = 300
REMEMBER_MAX = 1024


@dataclass(frozen=True)
class _Verified:
    user_id: int
    password_hash: str  # the user's stored hash when the password was checked
    expires: float  # time.monotonic()


_verified: "OrderedDict[str, _Verified]" = OrderedDict()
_lock = threading.Lock()  # under ASGI every request runs on a thread of its own


def credentials_digest(userid: str, password: str) -> str:
    # Useless without SECRET_KEY. A userid ends at the first ":", so the pair is unambiguous.
    pair = f"{userid}:{password}"
    return salted_hmac("helpdesk.auth.basic", pair, algorithm="sha256").hexdigest()


def remembered_forget_all() -> None:
    with _lock:
        _verified.clear()


def _remember(key: str, user: Any) -> None:
    with _lock:
        _verified[key] = _Verified(user.pk, user.password, time.monotonic() + REMEMBER_SECONDS)
        _verified.move_to_end(key)
        while len(_verified) > REMEMBER_MAX:
            _verified.popitem(last=False)


def _recall(key: str, userid: str) -> Any:
    """The user a still-valid remembered pair stands for, or None (and forget it)."""
    with _lock:
        entry = _verified.get(key)
    if entry is None:
        return None
    user = None
    if entry.expires > time.monotonic():
        user = get_user_model()._default_manager.filter(pk=entry.user_id).first()
    if (
        user is not None
        and user.is_active
        and user.get_username() == userid
        and constant_time_compare(user.password or "", entry.password_hash)
    ):
        return user
    with _lock:
        _verified.pop(key, None)
    return None


class RememberingBasicAuthentication(BasicAuthentication):
    """DRF's HTTP Basic, checking the password hash once per pair, process and few minutes."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[Any, None]:
        key = credentials_digest(userid, password)
        user = _recall(key, userid)
        if user is None:
            # The Django request, not DRF's wrapper: django-axes marks a lockout on the
            # request its middleware then answers (helpdesk/lib/lockout.py).
            django_request = getattr(request, "_request", request)
            user, _ = super().authenticate_credentials(userid, password, django_request)
            _remember(key, user)
        if has_device(user):
            # A password alone is not this user's sign-in.
            raise exceptions.AuthenticationFailed(
                "This account uses two-factor sign-in, so HTTP Basic (a password alone) is refused."
            )
        return user, None


class RememberingBasicScheme(BasicScheme):
    """To a client it is plain HTTP Basic: the OpenAPI schema says so."""

    target_class = "helpdesk.auth.RememberingBasicAuthentication"
