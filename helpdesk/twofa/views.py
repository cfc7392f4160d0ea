"""The sign-in steps after the password, and enrolment."""

import time
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, login, user_login_failed
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.audit.services import audit_record
from helpdesk.lib.lockout import lockout_response
from helpdesk.twofa.policy import has_device, must_enrol, new_recovery_codes, recovery_codes_left

PENDING_KEY = "twofa_pending"
# In the credentials of a failed sign-in: it was the code, after a right password.
SECOND_FACTOR = "second_factor"
PENDING_SECONDS = 300  # the password step is good for this long
SETUP_DEVICE_KEY = "twofa_setup_device"
CODES_KEY = "twofa_new_codes"


class TwoFactorLoginMixin:
    """After a right password: sign in, or keep the user pending a second factor."""

    request: HttpRequest
    default_next = "/agent/"

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not has_device(user) and not must_enrol(user):
            return super().form_valid(form)  # type: ignore[misc]
        next_url = self.get_redirect_url() or self.default_next  # type: ignore[attr-defined]
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": next_url,
            "at": time.time(),
        }
        return redirect("twofa:verify" if has_device(user) else "twofa:setup")


class AgentLoginView(TwoFactorLoginMixin, LoginView):
    template_name = "agent/login.html"
    redirect_authenticated_user = True


class AdminLoginView(TwoFactorLoginMixin, LoginView):
    """The admin's own login page and form (staff only), with the same second step."""

    template_name = "admin/login.html"
    authentication_form = AdminAuthenticationForm
    default_next = "/admin/"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context.setdefault("title", "Log in")
        context["site_header"] = admin.site.site_header
        return context


def _pending_user(request: HttpRequest) -> Any:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return get_user_model()._default_manager.filter(pk=pending["user"], is_active=True).first()


def _finish_login(request: HttpRequest, user: Any, device: Any) -> str:
    pending = request.session.pop(PENDING_KEY)
    login(request, user, backend=pending["backend"])
    otp_login(request, device)
    next_url = pending["next"]
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = settings.LOGIN_REDIRECT_URL
    return str(next_url)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """The code from the authenticator app, or a recovery code (each works once). A wrong
    code counts as a failed sign-in for the lockout, like a wrong password."""
    user = _pending_user(request)
    if user is None:
        return redirect(settings.LOGIN_URL)
    error = ""
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING_KEY, None)
            return lockout_response(request)
        code = "".join(request.POST.get("code", "").split())
        device = match_token(user, code) if code else None
        if device is not None:
            _audit_verified(request, user, device)
            return HttpResponseRedirect(_finish_login(request, user, device))
        # Marked as the second step, so the audit log records a wrong code, not a password.
        failed = {**credentials, SECOND_FACTOR: True}
        user_login_failed.send(sender=__name__, credentials=failed, request=request)
        if getattr(request, "axes_locked_out", False):
            request.session.pop(PENDING_KEY, None)
            return lockout_response(request)
        error = (
            "That code is not right or was already used. Enter the current code from "
            "your authenticator app, or a recovery code."
        )
    return render(request, "twofa/verify.html", {"error": error}, status=400 if error else 200)


def _audit(request: HttpRequest, user: Any, action: str, **extra: Any) -> None:
    """An entry of the audit log about the user's own second factor."""
    audit_record(action=action, actor=user, target=user, request=request, **extra)


def _audit_verified(request: HttpRequest, user: Any, device: Any) -> None:
    recovery = isinstance(device, StaticDevice)
    if recovery:
        left = recovery_codes_left(user)
        summary = f"Recovery code used; {left} left"
        _audit(
            request, user, "twofa.recovery_code_used", summary=summary, data={"codes_left": left}
        )
    method = "recovery_code" if recovery else "authenticator"
    _audit(request, user, "twofa.login", data={"method": method})


def _setup_device(request: HttpRequest, user: Any) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per session, kept across reloads
    so the QR code does not change under the person scanning it)."""
    device = None
    device_id = request.session.get(SETUP_DEVICE_KEY)
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        request.session[SETUP_DEVICE_KEY] = device.pk
    return device


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: scan the QR code (or type the key), confirm with a code,
    and get ten recovery codes, shown once. For a signed-in user without a device, or a
    user whose password step requires one."""
    signed_in = request.user.is_authenticated
    user = request.user if signed_in else _pending_user(request)
    if user is None:
        return redirect(settings.LOGIN_URL)
    if has_device(user):
        return redirect("twofa:manage" if signed_in else "twofa:verify")
    device = _setup_device(request, user)
    error = ""
    if request.method == "POST":
        code = "".join(request.POST.get("code", "").split())
        if code and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            request.session.pop(SETUP_DEVICE_KEY, None)
            codes = new_recovery_codes(user)
            _audit(request, user, "twofa.enrol", summary="Authenticator app enrolled")
            next_url = reverse("twofa:manage")
            if not signed_in:
                next_url = _finish_login(request, user, device)
            request.session[CODES_KEY] = {"codes": codes, "next": next_url}
            return redirect("twofa:codes")
        error = "That code did not match. Check the time on your phone and enter the current code."
    qr = segno.make(device.config_url, error="m")
    context = {
        "qr_svg": qr.svg_inline(scale=5, title="QR code for your authenticator app"),
        "key": device.config_url.split("secret=", 1)[1].split("&", 1)[0],
        "error": error,
        "required": must_enrol(user),
    }
    return render(request, "twofa/setup.html", context, status=400 if error else 200)


@login_required
@never_cache
def codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes just made: shown this once, then gone from the session."""
    shown = request.session.pop(CODES_KEY, None)
    if not shown:
        return redirect("twofa:manage")
    return render(request, "twofa/codes.html", shown)


@login_required
@csrf_protect
@never_cache
def manage(request: HttpRequest) -> HttpResponse:
    """Two-factor status for the signed-in user, and new recovery codes on request."""
    enrolled = has_device(request.user)
    if request.method == "POST" and enrolled and request.POST.get("action") == "new-codes":
        request.session[CODES_KEY] = {
            "codes": new_recovery_codes(request.user),
            "next": reverse("twofa:manage"),
        }
        _audit(request, request.user, "twofa.recovery_codes_new", summary="New recovery codes")
        return redirect("twofa:codes")
    return render(
        request, "twofa/manage.html", {"enrolled": enrolled, "required": must_enrol(request.user)}
    )
