from django.urls import URLPattern, URLResolver

# Websocket routes (/ws/agent/, /ws/chat/) are added by the apps that own the consumers.
websocket_urlpatterns: list[URLPattern | URLResolver] = []
