"""The audit trail in the admin: list, filters, search, detail, export; nobody adds,
changes or deletes an entry, superusers included."""

import io
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from helpdesk.audit.models import AuditEntry
from helpdesk.audit.services import audit_record, audit_write


def _export(fmt: str) -> Any:
    def action(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[AuditEntry]
    ) -> HttpResponse:
        out = io.StringIO()
        count = audit_write(queryset.order_by("created_at", "id"), out, fmt)
        audit_record(action="audit.export", request=request, data={"format": fmt, "rows": count})
        response = HttpResponse(
            out.getvalue(), content_type="text/csv" if fmt == "csv" else "application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="audit.{fmt}"'
        return response

    action.__name__ = f"export_{fmt}"
    return admin.action(description=f"Export selected entries as {fmt.upper()}")(action)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor_name", "target_type", "target_id", "ip")
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "summary", "target_id", "ip", "action")
    date_hierarchy = "created_at"
    actions = [_export("csv"), _export("json")]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return ("action", "actor_name", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(
            request.user.is_active and request.user.is_staff
        ) and super().has_view_permission(request, obj)
