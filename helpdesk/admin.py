"""The Django admin is for admins only: staff status alone (an agent) does not open it.
Also the admin's two-factor reset: an action on users, and the device admins' deletes,
both recorded in the audit log."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.audit.services import audit_record
from helpdesk.roles import is_admin
from helpdesk.twofa.policy import twofa_reset


def _admins_only(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and is_admin(request.user))


admin.site.has_permission = _admins_only  # type: ignore[method-assign]
admin.site.site_header = "Help desk administration"
admin.site.site_title = "Help desk admin"


# --- two-factor sign-in: an admin's reset, recorded in the audit log ---------------------


@admin.action(description="Reset two-factor sign-in (lost phone)")
def twofa_reset_action(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    reset = [
        u.get_username()
        for u in queryset
        if twofa_reset(user=u, actor=request.user, request=request)
    ]
    if reset:
        modeladmin.message_user(
            request,
            f"Two-factor sign-in reset for {', '.join(reset)}: they sign in with their "
            "password and enrol again if they must.",
            messages.SUCCESS,
        )
    else:
        modeladmin.message_user(
            request, "None of them had two-factor sign-in set up.", messages.WARNING
        )


def _with_twofa_reset(model_admin: admin.ModelAdmin) -> None:
    cls = type(model_admin)
    actions = [*(cls.actions or []), twofa_reset_action]
    model_admin.__class__ = type(cls.__name__, (cls,), {"actions": actions, "__module__": __name__})


class TwoFactorDeviceAuditMixin:
    """Deleting a user's authenticator or recovery codes turns their second factor off:
    recorded as the reset it is."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        user, kind = obj.user, obj._meta.verbose_name
        super().delete_model(request, obj)  # type: ignore[misc]
        audit_record(
            action="twofa.disable",
            target=user,
            request=request,
            summary=f"Two-factor {kind} “{obj.name}” of {user.get_username()} deleted",
            data={"device": obj._meta.label_lower},
        )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in list(queryset):
            self.delete_model(request, obj)


def _with_device_audit(model_admin: admin.ModelAdmin) -> None:
    cls = type(model_admin)
    model_admin.__class__ = type(
        cls.__name__, (TwoFactorDeviceAuditMixin, cls), {"__module__": __name__}
    )


# The user and device admins are registered by their own apps, before this module runs.
_with_twofa_reset(admin.site._registry[get_user_model()])
for _device in (TOTPDevice, StaticDevice):
    _with_device_audit(admin.site._registry[_device])
