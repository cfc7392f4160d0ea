"""Admin for SLA configuration: calendars (the week as one grid, holidays), policies with
targets in hours and minutes and a due-time preview. Saving either recomputes open
tickets in the background."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from tickets.models import (
    BusinessHours,
    Holiday,
    Priority,
    SlaPolicy,
    SlaRecord,
    SlaTarget,
    SlaTargetKind,
)
from tickets.sla.admin_forms import SlaTargetForm, hours_minutes
from tickets.sla.admin_week import BusinessHoursForm
from tickets.sla.calendar import CalendarError
from tickets.sla.selectors import sla_policy_preview
from tickets.sla.services import (
    business_hours_import_holidays,
    business_hours_set_week,
    sla_config_changed,
)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    """The week is one grid on the form (BusinessHoursForm); holidays are an inline."""

    form = BusinessHoursForm
    list_display = ("name", "timezone", "always_open", "holiday_country", "updated_at")
    search_fields = ("name",)
    inlines = [HolidayInline]
    actions = ["import_holidays"]

    class Media:
        css = {"all": ("admin/tickets/business_hours_week.css",)}
        js = ("admin/tickets/business_hours_week.js",)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        business_hours_set_week(business_hours=form.instance, week=form.week)
        sla_config_changed()

    @admin.action(description="Import public holidays (this year and next)")
    def import_holidays(self, request: HttpRequest, queryset: QuerySet[BusinessHours]) -> None:
        year = timezone.now().year
        for calendar in queryset:
            try:
                added = business_hours_import_holidays(
                    business_hours=calendar, years=[year, year + 1]
                )
            except ValueError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
                continue
            self.message_user(request, f"{calendar}: {added} holidays added.")


class TargetInline(admin.TabularInline):
    model = SlaTarget
    form = SlaTargetForm
    extra = 0
    min_num = 1


PRIORITY_ORDER = {value: index for index, value in enumerate(Priority.values)}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name", "order", "active", "business_hours", "priority", "team", "channel", "targets_shown",
    )  # fmt: skip
    list_select_related = ("business_hours", "team")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [TargetInline]
    autocomplete_fields = ("team", "organization", "escalate_to_team")

    class Media:
        css = {"all": ("admin/tickets/sla_targets.css",)}

    fieldsets = (
        (None, {"fields": ("name", "order", "active", "business_hours", "warning_percent")}),
        (
            "Conditions (all that are set must match)",
            {"fields": ("priority", "team", "channel", "organization", "tag")},
        ),
        (
            "Escalation on breach",
            {"fields": ("notify_assignee", "notify_team", "raise_priority", "escalate_to_team")},
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlaPolicy]:
        return super().get_queryset(request).prefetch_related("targets")

    @admin.display(description="Targets (first response / next response / resolution)")
    def targets_shown(self, obj: SlaPolicy) -> SafeString:
        targets = sorted(obj.targets.all(), key=lambda t: PRIORITY_ORDER.get(t.priority, 99))
        return format_html_join(
            mark_safe("<br>"),
            "{}: {}",
            (
                (
                    target.get_priority_display(),
                    " / ".join(
                        hours_minutes(target.minutes_for(kind)) or "—"
                        for kind in SlaTargetKind.values
                    ),
                )
                for target in targets
            ),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        sla_config_changed()

    def delete_model(self, request: HttpRequest, obj: SlaPolicy) -> None:
        super().delete_model(request, obj)
        sla_config_changed()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = extra_context or {}
        policy = self.get_object(request, object_id)
        if policy is not None:
            try:
                extra_context["sla_preview"] = sla_policy_preview(policy=policy)
            except CalendarError as exc:
                extra_context["sla_preview_error"] = str(exc)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(SlaRecord)
class SlaRecordAdmin(admin.ModelAdmin):
    """The measured clocks: read-only, written by the engine and the timer."""

    list_display = ("ticket", "kind", "state", "policy", "due_at", "breached_at", "late")
    list_filter = ("kind", "state", "policy")
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "policy")
    date_hierarchy = "started_at"

    @admin.display(description="Late by", ordering="late_minutes")
    def late(self, obj: SlaRecord) -> str:
        return hours_minutes(obj.late_minutes)

    def get_readonly_fields(self, request: HttpRequest, obj: SlaRecord | None = None) -> list[str]:
        return [field.name for field in SlaRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SlaRecord | None = None) -> bool:
        return False
