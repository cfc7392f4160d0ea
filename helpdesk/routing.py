from django.urls import URLPattern, URLResolver, path

from channels_app.consumers import ChatConsumer

# Agent routes (/ws/agent/) are added by the app that owns that consumer; they run behind
# AllowedHostsOriginValidator and the session auth stack (see helpdesk/asgi.py).
websocket_urlpatterns: list[URLPattern | URLResolver] = []

# The chat widget runs on customers' sites: ChatConsumer checks each page's origin
# against its ChatChannel's allowed domains itself, and visitors have no session.
chat_websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/chat/", ChatConsumer.as_asgi()),
]
