"""Sign-in throttling (django-axes): how long a lockout lasts, what a locked-out person
sees, and which address counts as theirs.

Every way to sign in with a password goes through Django's authenticate(): the agent and
admin login forms and the API's HTTP Basic. django-axes counts failures per account and
per client address and refuses both for a while once either reaches
HELPDESK_LOGIN_MAX_FAILURES; every failure and every sign-in is logged (the admin's
"Access attempts", "Access failures" and "Access logs"), and an admin unlocks by
deleting the account's or address's access attempts.
"""

import ipaddress
import math
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.models import AccessFailureLog
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from helpdesk.lib.net import client_ip

MAX_LOCKOUT = timedelta(hours=24)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check on every sign-in that comes with a request. A call of
    authenticate() without one (a script, Django's test client) is no way in over HTTP:
    there is no client address to count, so it is left to the model backend."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


BACKOFF_WINDOW = timedelta(hours=24)


def request_client_ip(request: HttpRequest) -> str | None:
    """The address axes counts failures of; None when there is no address to count."""
    address = client_ip(request.META)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def login_cool_off(request: HttpRequest | None = None) -> timedelta:
    """The first lockout of a day lasts HELPDESK_LOGIN_LOCKOUT_MINUTES; each further one
    (another full round of failures once it ended) twice the last, up to a day: guessing
    slowly gets slower, a person who mistyped waits a few minutes once."""
    base = timedelta(minutes=settings.HELPDESK_LOGIN_LOCKOUT_MINUTES)
    if request is None:
        return base
    address = request_client_ip(request)
    username = (getattr(request, "axes_credentials", None) or {}).get("username")
    if not address and not username:
        return base
    who = Q(ip_address=address) if address else Q()
    if username:
        who = who | Q(username=username) if address else Q(username=username)
    failures = AccessFailureLog.objects.filter(
        who, attempt_time__gte=timezone.now() - BACKOFF_WINDOW
    ).count()
    earlier_lockouts = max(0, failures // max(1, settings.AXES_FAILURE_LIMIT) - 1)
    return min(base * 2 ** min(earlier_lockouts, 16), MAX_LOCKOUT)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """429 with when to try again: the API's error shape for API clients, a page for
    people."""
    wait = get_cool_off(request) or timedelta(minutes=settings.HELPDESK_LOGIN_LOCKOUT_MINUTES)
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    message = (
        f"Too many failed sign-ins for this account or from this address. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an admin to unlock it."
    )
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "locked_out", "message": message, "fields": {}}}, status=429
        )
    else:
        response = render(request, "locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(wait.total_seconds()))
    return response
