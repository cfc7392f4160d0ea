"""Fixtures for the end-to-end tests, reused from the areas that own them."""

from tests.channels_app.chat.conftest import chat_channel  # noqa: F401  (found by name)
