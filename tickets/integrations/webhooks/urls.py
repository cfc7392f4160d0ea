"""Under /api/v1/webhooks/ (included from tickets/api_urls.py)."""

from django.urls import path

from tickets.integrations.webhooks import api

urlpatterns = [
    path("", api.WebhookListApi.as_view(), name="api-webhook-list"),
    path("<int:webhook_id>/", api.WebhookDetailApi.as_view(), name="api-webhook-detail"),
    path(
        "<int:webhook_id>/rotate-secret/",
        api.WebhookRotateSecretApi.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path("<int:webhook_id>/test/", api.WebhookTestApi.as_view(), name="api-webhook-test"),
    path(
        "<int:webhook_id>/deliveries/",
        api.WebhookDeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "<int:webhook_id>/deliveries/<int:delivery_id>/replay/",
        api.WebhookDeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
