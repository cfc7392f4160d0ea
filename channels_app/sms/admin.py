"""SMS numbers in the admin, with the webhook addresses to set at Twilio."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from channels_app.models import SmsNumber
from helpdesk.lib.urls import absolute_url
from tickets.errors import TicketError
from tickets.identity import normalize_phone


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
