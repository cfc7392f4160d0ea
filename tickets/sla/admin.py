"""Admin for SLA configuration: calendars with intervals and holidays, policies with
targets and a due-time preview. Saving either recomputes open tickets in the background."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tickets.models import (
    BusinessHours,
    BusinessInterval,
    Holiday,
    SlaPolicy,
    SlaRecord,
    SlaTarget,
)
from tickets.sla.calendar import CalendarError, interval_problems
from tickets.sla.selectors import sla_policy_preview
from tickets.sla.services import business_hours_import_holidays, sla_config_changed


class IntervalFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # field errors first; the week check needs every row readable
        intervals = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("start") is None:
                continue
            start, end = data["start"], data["end"]
            intervals.append(
                (
                    data["weekday"],
                    start.hour * 60 + start.minute,
                    end.hour * 60 + end.minute or 1440,
                )
            )
        problems = interval_problems(intervals, always_open=bool(self.instance.always_open))
        if problems:
            raise ValidationError(problems)


class IntervalInline(admin.TabularInline):
    model = BusinessInterval
    formset = IntervalFormSet
    extra = 1


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "always_open", "holiday_country", "updated_at")
    search_fields = ("name",)
    inlines = [IntervalInline, HolidayInline]
    actions = ["import_holidays"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
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
    extra = 0
    min_num = 1


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "active", "business_hours", "priority", "team", "channel")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [TargetInline]
    autocomplete_fields = ("team", "organization", "escalate_to_team")
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

    list_display = (
        "ticket", "kind", "state", "policy", "due_at", "breached_at", "late_minutes",
    )  # fmt: skip
    list_filter = ("kind", "state", "policy")
    search_fields = ("ticket__number",)
    list_select_related = ("ticket", "policy")
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request: HttpRequest, obj: SlaRecord | None = None) -> list[str]:
        return [field.name for field in SlaRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SlaRecord | None = None) -> bool:
        return False
