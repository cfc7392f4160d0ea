from django.urls import URLPattern, URLResolver, path

from tickets.consumers import AgentConsumer

# Websocket routes (/ws/agent/, /ws/chat/) are added by the apps that own the consumers.
websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/agent/", AgentConsumer.as_asgi()),
]
