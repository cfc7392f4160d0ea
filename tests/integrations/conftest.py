"""Browser fixtures, reused from the area that owns them."""

from tests.agent.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    _end_stray_connections,
    browser,
    live_url,
    smtp_sink,
)
