"""Webhooks in the Django admin: subscribe a URL, see each delivery, send a test event,
enable a disabled webhook again, rotate its secret, replay failed deliveries."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from helpdesk.audit.receivers import AuditedAdminMixin, snapshot
from helpdesk.audit.services import audit_record
from tickets.integrations.models import (
    Webhook,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from tickets.integrations.webhooks.services import (
    WebhookError,
    events_clean,
    url_clean,
    webhook_create,
    webhook_deliveries_replay,
    webhook_enable,
    webhook_secret_rotate,
    webhook_send_test,
    webhook_update,
)
from tickets.models import Channel, Team

DELIVERIES_SHOWN = 25


class WebhookForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        help_text="A public https URL. Deliveries are signed with the webhook's secret.",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Only tickets on these channels (none: all).",
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Only tickets of these teams (none: all).",
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "channels", "teams"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["teams"] = list(self.instance.team_ids)

    def clean_url(self) -> str:
        try:
            return url_clean(self.cleaned_data["url"])
        except WebhookError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_events(self) -> list[str]:
        try:
            return events_clean(self.cleaned_data["events"])
        except WebhookError as exc:
            raise forms.ValidationError(exc.message) from exc


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    verbose_name_plural = f"Latest {DELIVERIES_SHOWN} deliveries"
    fields = (
        "event_type",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "last_duration_ms",
        "created_at",
        "delivered_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        qs = super().get_queryset(request)
        # The newest only: a busy webhook has many thousands (the full log is its own
        # page, filtered by webhook).
        match = request.resolver_match
        webhook_id = match.kwargs.get("object_id", 0) if match else 0
        latest = WebhookDelivery.objects.filter(webhook_id=webhook_id).order_by("-id")
        return qs.filter(pk__in=Subquery(latest.values("pk")[:DELIVERIES_SHOWN]))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Webhook)
class WebhookAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "url", "state", "failure_count", "last_success_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    actions = ["send_test", "enable", "rotate_secret", "replay_failed"]
    readonly_fields = [
        "state",
        "deliveries_link",
        "failure_count",
        "failing_since",
        "last_success_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [DeliveryInline]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return WebhookForm.Meta.fields
        return [*WebhookForm.Meta.fields, *self.readonly_fields]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else []

    @admin.display(description="State")
    def state(self, obj: Webhook) -> str:
        if obj.is_active:
            return "Active"
        if obj.disabled_reason:
            return f"Disabled by the desk: {obj.disabled_reason}"
        return "Disabled"

    @admin.display(description="Delivery log")
    def deliveries_link(self, obj: Webhook) -> str:
        url = reverse("admin:integrations_webhookdelivery_changelist")
        return format_html('<a href="{}?webhook__id__exact={}">All deliveries</a>', url, obj.pk)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        self._notice_disabled(request, Webhook.objects.filter(is_active=False))
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "GET":
            self._notice_disabled(request, Webhook.objects.filter(pk=object_id, is_active=False))
        return super().change_view(request, object_id, form_url, extra_context)

    def _notice_disabled(self, request: HttpRequest, inactive: QuerySet[Webhook]) -> None:
        # Only those the desk disabled (failures, 410): an admin's own switch needs no alarm.
        for webhook in inactive.exclude(disabled_reason="")[:10]:
            messages.error(
                request,
                f"The webhook “{webhook.name}” was disabled on "
                f"{webhook.disabled_at:%Y-%m-%d %H:%M} UTC. {webhook.disabled_reason} "
                "(Action: “Enable again”.)",
            )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            # The audit trail's before values (AuditedAdminMixin.save_related records).
            request._audit_before = snapshot(Webhook.objects.get(pk=obj.pk))  # type: ignore[attr-defined]
            webhook_update(
                webhook=obj, name=data["name"], url=data["url"], events=data["events"],
                channels=data["channels"], team_ids=[t.pk for t in data["teams"]],
            )  # fmt: skip
            return
        new = webhook_create(
            name=data["name"], url=data["url"], events=data["events"],
            channels=data["channels"], team_ids=[t.pk for t in data["teams"]],
            created_by=request.user,
        )  # fmt: skip
        obj.pk = new.webhook.pk
        obj.__dict__.update(new.webhook.__dict__)
        messages.warning(
            request,
            f"The webhook's signing secret, shown only now (copy it to the receiver): {new.secret}",
        )

    @admin.action(description="Send a test event")
    def send_test(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            try:
                webhook_send_test(webhook=webhook, actor=request.user)
            except WebhookError as exc:
                self.message_user(request, f"{webhook.name}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{webhook.name}: a webhook.test event is on its way; its delivery "
                    "appears below the webhook.",
                )

    @admin.action(description="Enable again (pending deliveries go out)")
    def enable(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset.filter(is_active=False):
            webhook_enable(webhook=webhook)
            audit_record(action="webhook.enable", target=webhook, request=request)
            self.message_user(request, f"{webhook.name} is enabled again.")

    @admin.action(description="Rotate the signing secret")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            new = webhook_secret_rotate(webhook=webhook)
            audit_record(action="webhook.secret_rotate", target=webhook, request=request)
            messages.warning(
                request,
                f"{webhook.name}: the new signing secret, shown only now: {new.secret} "
                "(the old one also signs for 24 hours).",
            )

    @admin.action(description="Replay failed deliveries")
    def replay_failed(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        failed = WebhookDelivery.objects.filter(
            webhook__in=queryset, status=WebhookDeliveryStatus.FAILED
        )
        count = webhook_deliveries_replay(deliveries=failed)
        self.message_user(request, f"{count} failed deliveries are sent again.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "webhook",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type", "webhook"]
    list_select_related = ["webhook"]
    search_fields = ["event_id"]
    actions = ["replay"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Replay (failed ones only)")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhook_deliveries_replay(deliveries=queryset)
        self.message_user(request, f"{count} failed deliveries are sent again.")
