from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from channels_app.delivery import delivery_retry
from channels_app.ingest import raw_inbound_process
from channels_app.models import (
    AgentSignature,
    ChatChannel,
    Delivery,
    DeliveryStatus,
    Mailbox,
    RawInbound,
    RawStatus,
    SmsNumber,
)
from helpdesk.lib.urls import absolute_url
from tickets.errors import TicketError
from tickets.identity import normalize_phone


class MailboxForm(forms.ModelForm):
    # The stored password is never sent back to the browser; blank keeps it.
    imap_password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current password.",
    )

    class Meta:
        model = Mailbox
        fields = (
            "name", "address", "team", "is_active", "is_default", "imap_host", "imap_port",
            "imap_security", "imap_username", "imap_password", "imap_folder",
            "imap_processed_folder", "plus_addressing", "cc_followers", "send_acknowledgement",
            "ack_subject", "ack_body",
        )  # fmt: skip

    def clean_imap_password(self) -> str:
        value: str = self.cleaned_data.get("imap_password") or ""
        return value or (self.instance.imap_password if self.instance.pk else "")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = (
        "address", "name", "team", "is_active", "is_default", "imap_host", "last_success_at",
        "healthy",
    )  # fmt: skip
    list_filter = ("is_active",)
    search_fields = ("address", "name")
    readonly_fields = ("last_success_at", "last_error", "last_error_at")
    fieldsets = (
        (None, {"fields": ("name", "address", "team", "is_active", "is_default")}),
        (
            "IMAP polling",
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_username",
                    "imap_password",
                    "imap_folder",
                    "imap_processed_folder",
                )
            },
        ),
        ("Threading and followers", {"fields": ("plus_addressing", "cc_followers")}),
        ("Acknowledgement", {"fields": ("send_acknowledgement", "ack_subject", "ack_body")}),
        ("Health", {"fields": ("last_success_at", "last_error", "last_error_at")}),
    )

    actions = ["poll_now"]

    # Django draws True as a green tick and False as a red cross, so the column asks "is it
    # working?": a mailbox whose last fetch failed shows the cross.
    @admin.display(boolean=True, description="Working", ordering="last_error")
    def healthy(self, obj: Mailbox) -> bool:
        return not obj.last_error

    @admin.action(description="Fetch new mail from the selected mailboxes now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        from channels_app.imap import mailbox_poll

        for mailbox in queryset.exclude(imap_host=""):
            result = mailbox_poll(mailbox_id=mailbox.pk)
            if result.error:
                self.message_user(request, f"{mailbox.address}: {result.error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{mailbox.address}: {result.fetched} new message(s) stored.",
                    messages.SUCCESS,
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


class SmsNumberForm(forms.ModelForm):
    class Meta:
        model = SmsNumber
        fields = ("phone", "account_sid", "auth_token", "team", "active")
        widgets = {"auth_token": forms.PasswordInput(render_value=True)}

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except TicketError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(SmsNumber)
class SmsNumberAdmin(admin.ModelAdmin):
    form = SmsNumberForm
    list_display = ("phone", "account_sid", "team", "active")
    list_filter = ("active",)
    search_fields = ("phone", "account_sid")
    readonly_fields = ("webhook_urls",)

    @admin.display(description="Webhooks to set at the provider")
    def webhook_urls(self, obj: SmsNumber) -> str:
        return format_html(
            "Messaging webhook (POST): <code>{}</code><br>Status callbacks are set per "
            "message: <code>{}</code>",
            absolute_url(reverse("hooks_twilio:sms")),
            absolute_url(reverse("hooks_twilio:status")),
        )


def chat_embed_snippet(channel: ChatChannel) -> str:
    return (
        f'<script src="{absolute_url(static("chat/widget.js"))}" data-channel="{channel.key}" '
        f'data-server="{absolute_url("")}" async></script>'
    )


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "require_email", "active")
    list_filter = ("active",)
    search_fields = ("name", "allowed_domains")
    readonly_fields = ("key", "embed_snippet")
    fields = (
        "name", "allowed_domains", "colour", "greeting", "team", "require_email", "active",
        "key", "embed_snippet",
    )  # fmt: skip

    @admin.display(description="Embed snippet (paste before </body>)")
    def embed_snippet(self, obj: ChatChannel) -> str:
        if obj.pk is None:
            return "Save the channel to get its snippet."
        return format_html(
            '<textarea readonly rows="3" cols="90" aria-label="Embed snippet">{}</textarea>',
            chat_embed_snippet(obj),
        )
