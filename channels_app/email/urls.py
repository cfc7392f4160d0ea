"""Email webhooks, included under /hooks/ (DESIGN: /hooks/email/raw/, /hooks/anymail/)."""

from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView, PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView, SendGridTrackingWebhookView
from django.urls import URLPattern, path, re_path
from django.views import View

from channels_app.email.hooks import anymail_guard, raw_email_hook

# (ESP, webhook kind, anymail view, the ANYMAIL setting that must be set to accept posts)
ESP_WEBHOOKS = (
    ("mailgun", "inbound", MailgunInboundWebhookView, "MAILGUN_WEBHOOK_SIGNING_KEY"),
    ("postmark", "inbound", PostmarkInboundWebhookView, "WEBHOOK_SECRET"),
    ("sendgrid", "inbound", SendGridInboundWebhookView, "WEBHOOK_SECRET"),
    ("mailgun", "tracking", MailgunTrackingWebhookView, "MAILGUN_WEBHOOK_SIGNING_KEY"),
    ("postmark", "tracking", PostmarkTrackingWebhookView, "WEBHOOK_SECRET"),
    ("sendgrid", "tracking", SendGridTrackingWebhookView, "WEBHOOK_SECRET"),
)


def _esp_route(esp: str, kind: str, view: type[View], setting: str) -> URLPattern:
    guarded = anymail_guard(view.as_view(), setting=setting)
    name = f"anymail-{esp}-{kind}"
    if (esp, kind) == ("mailgun", "inbound"):  # Mailgun posts parsed or raw MIME
        return re_path(r"^anymail/mailgun/inbound(_mime)?/$", guarded, name=name)
    return path(f"anymail/{esp}/{kind}/", guarded, name=name)


urlpatterns = [
    path("email/raw/", raw_email_hook, name="email-raw-hook"),
    *(_esp_route(*webhook) for webhook in ESP_WEBHOOKS),
]
