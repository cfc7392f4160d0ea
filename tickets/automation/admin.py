"""Admin for triggers and time rules: conditions and actions edited as rows of
field / operator / value lists (static/admin/automation/rule_editor.js turns the JSON
fields into that editor; without it they stay editable JSON), reorder by position in the
list, activate, deactivate, clone, and a dry run over the last 500 tickets."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from tickets.automation.dry_run import rule_dry_run
from tickets.automation.errors import RuleError
from tickets.automation.models import (
    AgentAvailability,
    QueuedAssignment,
    TimeRule,
    Trigger,
    TriggerEvent,
)
from tickets.automation.rules import field_choices, rule_validate


class RuleEditorWidget(forms.Textarea):
    def __init__(self, part: str) -> None:
        super().__init__(attrs={"rows": 6, "cols": 80, "data-rule-editor": part})


class RuleForm(forms.ModelForm):
    time_rule = False

    conditions = forms.JSONField(widget=RuleEditorWidget("conditions"), required=False)
    actions = forms.JSONField(widget=RuleEditorWidget("actions"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            conditions, actions, events = rule_validate(
                conditions=data.get("conditions"),
                actions=data.get("actions"),
                events=data.get("events"),
                time_rule=self.time_rule,
            )
        except RuleError as exc:
            part = exc.field.split(".")[0].split("[")[0]
            self.add_error(part if part in self.fields else None, exc.message)
            return data
        data["conditions"], data["actions"] = conditions, actions
        if not self.time_rule:
            data["events"] = events
        return data


class TriggerForm(RuleForm):
    events = forms.MultipleChoiceField(
        choices=TriggerEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Trigger
        fields = [
            "title", "active", "position", "events", "conditions", "actions", "reply_as",
            "description",
        ]  # fmt: skip


class TimeRuleForm(RuleForm):
    time_rule = True

    class Meta:
        model = TimeRule
        fields = [
            "title", "active", "position", "conditions", "actions", "reply_as", "description",
        ]  # fmt: skip


class RuleAdmin(admin.ModelAdmin):
    list_display: tuple[str, ...] = ("title", "position", "active", "fired_count", "last_fired_at")
    list_editable = ("position", "active")
    list_display_links = ("title",)
    ordering = ("position", "id")
    search_fields = ("title",)
    readonly_fields = ("fired_count", "last_fired_at")
    actions = ["activate", "deactivate", "clone"]
    time_rule = False

    class Media:
        css = {"all": ("admin/automation/rule_editor.css",)}
        js = ("admin/automation/rule_editor.js",)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        dry = path(
            "dry-run/",
            self.admin_site.admin_view(self.dry_run_view),
            name="{}_{}_dry_run".format(*info),
        )
        return [dry, *super().get_urls()]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        info = self.opts.app_label, self.opts.model_name
        form = context.get("adminform")
        if form is not None:
            schema = json.dumps(field_choices())
            url = reverse("admin:{}_{}_dry_run".format(*info))
            for name in ("conditions", "actions"):
                if name in form.form.fields:
                    widget = form.form.fields[name].widget
                    widget.attrs["data-schema"] = schema
                    widget.attrs["data-dry-run-url"] = url
                    widget.attrs["data-time-rule"] = "1" if self.time_rule else "0"
        return super().render_change_form(request, context, *args, **kwargs)

    def dry_run_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        context: dict[str, Any] = {"opts": self.opts}
        try:
            events = request.POST.getlist("events")
            result = rule_dry_run(
                conditions=json.loads(request.POST.get("conditions") or "{}"),
                actions=json.loads(request.POST.get("actions") or "[]"),
                events=events,
                time_rule=self.time_rule,
            )
            context["result"] = result
        except json.JSONDecodeError as exc:
            context["error"] = f"The conditions or actions are not valid JSON ({exc})."
        except RuleError as exc:
            context["error"] = exc.message
        return TemplateResponse(request, "admin/automation/dry_run.html", context)

    @admin.action(description="Activate selected rules")
    def activate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for rule in queryset:
            rule.active = True
            rule.save(update_fields=["active", "updated_at"])  # signals: caches reload

    @admin.action(description="Deactivate selected rules")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for rule in queryset:
            rule.active = False
            rule.save(update_fields=["active", "updated_at"])

    @admin.action(description="Clone selected rules (inactive copies)")
    def clone(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for rule in queryset:
            rule_clone(rule)
        messages.success(request, "Cloned. The copies are inactive until you activate them.")


def rule_clone(rule: Any) -> Any:
    model = type(rule)
    title = f"{rule.title} (copy)"
    n = 2
    while model.objects.filter(title=title).exists():
        title = f"{rule.title} (copy {n})"
        n += 1
    copy = model.objects.get(pk=rule.pk)
    copy.pk = None
    copy.title = title[:150]
    copy.active = False
    copy.fired_count = 0
    copy.last_fired_at = None
    copy.save()
    return copy


@admin.register(Trigger)
class TriggerAdmin(RuleAdmin):
    form = TriggerForm
    list_display = ("title", "position", "active", "events", "fired_count", "last_fired_at")


@admin.register(TimeRule)
class TimeRuleAdmin(RuleAdmin):
    form = TimeRuleForm
    time_rule = True


@admin.register(AgentAvailability)
class AgentAvailabilityAdmin(admin.ModelAdmin):
    list_display = ("user", "available", "max_open_tickets", "max_concurrent_chats")
    list_editable = ("available", "max_open_tickets", "max_concurrent_chats")
    raw_id_fields = ("user",)


@admin.register(QueuedAssignment)
class QueuedAssignmentAdmin(admin.ModelAdmin):
    list_display = ("ticket", "team", "method", "rule_title", "created_at")
    readonly_fields = ("ticket", "team", "method", "rule_title", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
