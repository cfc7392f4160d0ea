from typing import Any

import pytest

from channels_app.ingest import inbound_message_ingest
from tickets.models import Channel
from tickets.services import ticket_create


@pytest.fixture
def ticket(customer: Any) -> Any:
    """A new email ticket of `customer` (dana@example.com)."""
    return ticket_create(customer=customer, subject="Broken zipper", channel=Channel.EMAIL)


@pytest.fixture
def ingest(make_inbound: Any) -> Any:
    """ingest(**fields): build an InboundMessage and run it through the one ingest path."""

    def run(**fields: Any) -> Any:
        return inbound_message_ingest(message=make_inbound(**fields))

    return run


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Role fixtures hash a password per user; the real hasher costs ~0.2 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
