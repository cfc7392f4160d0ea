from typing import Any

import pytest

from channels_app.models import Delivery
from tickets.services import message_reply

PUBLIC = "https://desk.example.com"


@pytest.fixture
def public_base(settings: Any) -> str:
    # Behind a proxy: providers sign the public URL, Django sees http://testserver.
    settings.PUBLIC_BASE_URL = PUBLIC
    return PUBLIC


@pytest.fixture
def queued(ticket: Any, agent: Any) -> Delivery:
    """A public reply whose delivery is written but not yet sent (on_commit not run)."""
    message = message_reply(ticket=ticket, author=agent, body_text="We are on it.")
    return Delivery.objects.get(message=message)
