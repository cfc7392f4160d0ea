"""Mailboxes in the admin."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from channels_app.models import Mailbox


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
        from channels_app.email.imap import mailbox_poll

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
