"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from helpdesk.routing import chat_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402

CHAT_PREFIX = "/ws/chat/"

agent_websockets = AllowedHostsOriginValidator(
    AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
)
# Cross-origin by design (the widget is embedded on customers' sites): the consumer
# checks the origin against the chat channel's allowed domains instead.
chat_websockets = URLRouter(chat_websocket_urlpatterns)


async def websocket_app(scope: Any, receive: Any, send: Any) -> None:
    app = chat_websockets if scope["path"].startswith(CHAT_PREFIX) else agent_websockets
    await app(scope, receive, send)


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_app})
