"""Email webhooks, included under /hooks/ (DESIGN: /hooks/email/raw/, /hooks/anymail/)."""

from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView, PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView, SendGridTrackingWebhookView
from django.urls import path, re_path

from channels_app.email_hooks import anymail_guard, raw_email_hook

urlpatterns = [
    path("email/raw/", raw_email_hook, name="email-raw-hook"),
    re_path(
        r"^anymail/mailgun/inbound(_mime)?/$",
        anymail_guard(MailgunInboundWebhookView.as_view(), setting="MAILGUN_WEBHOOK_SIGNING_KEY"),
        name="anymail-mailgun-inbound",
    ),
    path(
        "anymail/postmark/inbound/",
        anymail_guard(PostmarkInboundWebhookView.as_view(), setting="WEBHOOK_SECRET"),
        name="anymail-postmark-inbound",
    ),
    path(
        "anymail/sendgrid/inbound/",
        anymail_guard(SendGridInboundWebhookView.as_view(), setting="WEBHOOK_SECRET"),
        name="anymail-sendgrid-inbound",
    ),
    path(
        "anymail/mailgun/tracking/",
        anymail_guard(MailgunTrackingWebhookView.as_view(), setting="MAILGUN_WEBHOOK_SIGNING_KEY"),
        name="anymail-mailgun-tracking",
    ),
    path(
        "anymail/postmark/tracking/",
        anymail_guard(PostmarkTrackingWebhookView.as_view(), setting="WEBHOOK_SECRET"),
        name="anymail-postmark-tracking",
    ),
    path(
        "anymail/sendgrid/tracking/",
        anymail_guard(SendGridTrackingWebhookView.as_view(), setting="WEBHOOK_SECRET"),
        name="anymail-sendgrid-tracking",
    ),
]
