"""What gets recorded without its callers knowing: sign-ins and sign-outs (Django's
auth signals and django-axes' lockout), customer merges (a domain event) and
configuration changes made in the Django admin (before/after field values)."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpRequest

from helpdesk.audit.services import audit_record

# Admin-edited configuration whose changes are recorded with before/after values.
AUDITED_ADMIN_MODELS = frozenset(
    {
        "tickets.slapolicy", "tickets.businesshours", "tickets.team", "tickets.macro",
        "channels_app.mailbox", "channels_app.smsnumber", "channels_app.chatchannel",
        "auth.user", "auth.group", "django_celery_beat.periodictask",
    }
)  # fmt: skip
SECRET_FIELDS = frozenset({"password", "auth_token", "imap_password", "smtp_password", "secret"})


def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, target=user, request=request)


def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.logout", actor=user, target=user, request=request)


def _on_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    username = str(credentials.get("username", ""))
    # helpdesk.twofa.views marks a wrong code after a right password (SECOND_FACTOR).
    code = bool(credentials.get("second_factor"))
    audit_record(
        action="twofa.failed" if code else "auth.login_failed",
        actor=username,
        request=request,
        summary=f"Wrong two-factor code for {username!r}"
        if code
        else f"Failed sign-in as {username!r}",
    )


def _on_lockout(sender: Any, request: Any, username: str, ip_address: str, **kw: Any) -> None:
    audit_record(
        action="auth.lockout",
        actor=username,
        ip=ip_address,
        summary=f"Sign-in locked out for {username!r} from {ip_address}",
    )


def _on_customer_merged(event: Any) -> None:
    audit_record(
        action="customer.merge",
        actor=_user(event.actor.user_id),
        target=("tickets.customer", event.target_customer_id),
        data={"source_customer_id": event.source_customer_id},
    )


def _on_customer_erased(event: Any) -> None:
    # Ids only: the entry must not bring back what the erasure removed.
    audit_record(
        action="customer.erased",
        actor=_user(event.actor.user_id),
        target=("tickets.customer", event.customer_id),
        data={
            "customer_ids": list(event.customer_ids),
            "tickets": len(event.ticket_ids),
            "messages": len(event.message_ids),
        },
    )


def _on_customer_exported(event: Any) -> None:
    audit_record(
        action="customer.export",
        actor=_user(event.actor.user_id),
        target=("tickets.customer", event.customer_id),
        data={"internal_notes": event.include_internal},
    )


def export_audit_entries(scope: Any) -> list[dict[str, Any]]:
    """The customer export's audit section: entries about the person's customer records."""
    from helpdesk.audit.models import AuditEntry
    from helpdesk.audit.services import audit_as_dict

    entries = AuditEntry.objects.filter(
        target_type="tickets.customer", target_id__in=[str(pk) for pk in scope.customer_ids]
    ).order_by("created_at", "id")
    return [
        {k: v for k, v in audit_as_dict(e).items() if k not in ("ip", "actor_id")} for e in entries
    ]


def _user(user_id: int | None) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.filter(pk=user_id).first() if user_id else None


def snapshot(obj: Model) -> dict[str, Any]:
    values = model_to_dict(obj)
    for name in list(values):
        if name in SECRET_FIELDS or "token" in name or "password" in name:
            values[name] = "(secret)" if values[name] else ""
        elif isinstance(values[name], list):
            values[name] = sorted(getattr(v, "pk", v) for v in values[name])
        elif isinstance(values[name], Model):
            values[name] = values[name].pk
        elif hasattr(values[name], "name") and hasattr(values[name], "url"):
            values[name] = str(values[name].name or "")
    return values


class AuditedAdminMixin:
    """ModelAdmin mixin: records who added, changed or deleted what, with values."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        model = type(obj)
        old = model._default_manager.filter(pk=obj.pk).first() if change and obj.pk else None
        request._audit_before = snapshot(old) if old is not None else None  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        obj = form.instance
        before = getattr(request, "_audit_before", None)
        after = snapshot(obj)
        if before is not None:
            changed = {k for k in after if before.get(k) != after.get(k)}
            before = {k: before.get(k) for k in changed}
            after = {k: after[k] for k in changed}
        audit_record(
            action="admin.change" if change else "admin.add",
            target=obj,
            request=request,
            summary=f"{obj._meta.verbose_name}: {obj}"[:500],
            before=before,
            after=after,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        values, label, pk = snapshot(obj), obj._meta.label_lower, obj.pk
        text = f"{obj._meta.verbose_name}: {obj}"
        super().delete_model(request, obj)  # type: ignore[misc]
        audit_record(
            action="admin.delete", target=(label, pk), request=request, summary=text, before=values
        )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in list(queryset):
            self.delete_model(request, obj)


def audit_admin_registrations(site: admin.AdminSite) -> None:
    for model, model_admin in site._registry.items():
        cls = type(model_admin)
        if model._meta.label_lower in AUDITED_ADMIN_MODELS and not issubclass(
            cls, AuditedAdminMixin
        ):
            model_admin.__class__ = type(cls.__name__, (AuditedAdminMixin, cls), {})


def connect() -> None:
    from axes.signals import user_locked_out

    from tickets.domain_events import (
        CustomerErased,
        CustomerExported,
        CustomerMerged,
        Phase,
        subscribe,
    )
    from tickets.privacy import export_section_register

    user_logged_in.connect(_on_login, dispatch_uid="audit.login")
    user_logged_out.connect(_on_logout, dispatch_uid="audit.logout")
    user_login_failed.connect(_on_failed, dispatch_uid="audit.login_failed")
    user_locked_out.connect(_on_lockout, dispatch_uid="audit.lockout")
    subscribe(CustomerMerged, _on_customer_merged, phase=Phase.IN_TRANSACTION)
    subscribe(CustomerErased, _on_customer_erased, phase=Phase.IN_TRANSACTION)
    subscribe(CustomerExported, _on_customer_exported, phase=Phase.IN_TRANSACTION)
    export_section_register("audit_entries", export_audit_entries)
    audit_admin_registrations(admin.site)
