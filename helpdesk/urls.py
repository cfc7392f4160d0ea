from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from channels_app.installed import CHANNELS
from helpdesk.lib.layers import RELAY_PATH
from helpdesk.twofa.views import AdminLoginView
from helpdesk.views import healthz, layer_relay

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(RELAY_PATH.lstrip("/"), layer_relay, name="layer-relay"),
    path("admin/login/", AdminLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("agent/2fa/", include("helpdesk.twofa.urls")),
    path("agent/", include("tickets.workspace.urls")),
    path("agent/", include("tickets.sla.urls")),  # SLA report
    path("api/v1/", include("tickets.api_urls")),
    path("kb/", include("knowledge_base.urls")),
    path("", include("tickets.portal.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    # Each channel's provider webhooks, from the channel table.
    *(path(prefix, include(urlconf)) for spec in CHANNELS for prefix, urlconf in spec.hooks),
]
