from importlib import import_module

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from channels_app.delivery import delivery_retry
from channels_app.ingest import raw_inbound_process
from channels_app.installed import CHANNELS
from channels_app.models import (
    AgentSignature,
    Delivery,
    DeliveryStatus,
    RawInbound,
    RawStatus,
)


@admin.register(AgentSignature)
class AgentSignatureAdmin(admin.ModelAdmin):
    list_display = ("user",)
    search_fields = ("user__username", "user__email")


@admin.register(RawInbound)
class RawInboundAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "adapter", "source", "status", "attempts", "received_at")
    list_filter = ("status", "channel", "adapter")
    search_fields = ("source", "error")
    readonly_fields = (
        "channel", "adapter", "source", "content_type", "meta", "status", "error", "attempts",
        "received_at", "processed_at", "payload_preview",
    )  # fmt: skip
    exclude = ("payload",)
    actions = ["reprocess"]

    @admin.display(description="Payload (first 20 kB)")
    def payload_preview(self, obj: RawInbound) -> str:
        return bytes(obj.payload[:20000]).decode("utf-8", errors="replace")

    @admin.action(description="Process selected payloads again")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[RawInbound]) -> None:
        done = failed = 0
        for raw in queryset.exclude(status=RawStatus.PROCESSED):
            result = raw_inbound_process(raw_id=raw.pk)
            if result is None:
                failed += 1
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} payload(s) processed.", messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                f"{failed} payload(s) are still quarantined; the error column says why.",
                messages.WARNING,
            )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id", "purpose", "channel", "recipient", "status", "attempts", "provider_id", "updated_at",
    )  # fmt: skip
    list_filter = ("status", "purpose", "channel")
    search_fields = ("recipient", "provider_id", "message__ticket__number")
    readonly_fields = (
        "message", "purpose", "context", "dedup_key", "channel", "recipient", "status",
        "attempts", "provider_id", "last_error",
        "next_attempt_at", "created_at", "updated_at", "sent_at", "delivered_at",
    )  # fmt: skip
    actions = ["retry"]

    @admin.action(description="Retry selected failed deliveries")
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = 0
        for delivery in queryset.filter(status=DeliveryStatus.FAILED):
            delivery_retry(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Each channel registers its own configuration (channels_app/<channel>/admin.py).
for _spec in CHANNELS:
    if _spec.admin:
        import_module(_spec.admin)
