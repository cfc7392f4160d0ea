"""A customer's website on its own origin, embedding the chat widget with its one tag."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings

WIDGET = Path(settings.BASE_DIR) / "static" / "chat" / "widget.js"
Site = tuple[str, Callable[[str], None]]  # the shop's origin, embed(channel_key)


@contextmanager
def shop_site(
    desk_url: str, *, extra_attrs: str = ""
) -> Iterator[tuple[str, Callable[[str], None]]]:
    """Serve the shop on 127.0.0.1 (ephemeral port). Yields its origin and `embed(key)`,
    which puts the widget for that chat channel on the shop's page."""
    page = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/widget.js":
                body, kind = WIDGET.read_bytes(), "application/javascript"
            else:
                body, kind = page["html"].encode(), "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def embed(channel_key: str) -> None:
        page["html"] = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Shop</title></head><body><h1>Our shop</h1>"
            f'<script src="/widget.js" data-channel="{channel_key}" '
            f'data-server="{desk_url}"{extra_attrs} async></script></body></html>'
        )

    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", embed
    finally:
        server.shutdown()
        server.server_close()
