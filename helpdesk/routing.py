from django.urls import URLPattern, URLResolver, path

from channels_app.chat.consumers import ChatConsumer
from tickets.workspace.consumers import AgentConsumer

# Agent pages run behind AllowedHostsOriginValidator and the session auth stack (see
# helpdesk/asgi.py).
websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/agent/", AgentConsumer.as_asgi()),
]

# The chat widget runs on customers' sites: ChatConsumer checks each page's origin
# against its ChatChannel's allowed domains itself, and visitors have no session.
chat_websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/chat/", ChatConsumer.as_asgi()),
]
