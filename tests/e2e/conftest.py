"""Fixtures for the end-to-end tests, reused from the areas that own them."""

from tests.agent.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    _end_stray_connections,
    agent,
    browser,
    live_url,
    smtp_sink,
)
from tests.smschat.conftest import chat_channel  # noqa: F401
