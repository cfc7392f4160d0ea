from django.urls import include, path

from tickets import api

urlpatterns = [
    path("tickets/", api.TicketListApi.as_view(), name="api-ticket-list"),
    path("tickets/<int:number>/", api.TicketDetailApi.as_view(), name="api-ticket-detail"),
    path("tickets/<int:number>/replies/", api.TicketReplyApi.as_view(), name="api-ticket-reply"),
    path("messages/", api.InboundMessageApi.as_view(), name="api-inbound-message"),
    path("webhooks/", include("tickets.integrations.webhooks.urls")),
]
