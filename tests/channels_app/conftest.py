from typing import Any

import pytest

from channels_app.ingest import inbound_message_ingest
from channels_app.models import Delivery
from tickets.models import Channel
from tickets.services import message_reply, ticket_create


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Role fixtures hash a password per user; the real hasher costs ~0.2 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ticket(customer: Any) -> Any:
    return ticket_create(customer=customer, subject="Broken zipper", channel=Channel.EMAIL)


@pytest.fixture
def queued(ticket: Any, agent: Any) -> Delivery:
    """A public reply whose delivery is written but not yet sent (on_commit not run)."""
    message = message_reply(ticket=ticket, author=agent, body_text="We are on it.")
    return Delivery.objects.get(message=message)


@pytest.fixture
def ingest(make_inbound: Any) -> Any:
    """ingest(**fields): build an InboundMessage and run it through the one ingest path."""

    def run(**fields: Any) -> Any:
        return inbound_message_ingest(message=make_inbound(**fields))

    return run


from tests.smschat.conftest import (  # noqa: E402, F401  (fixtures by name, for the SMS guard)
    fake_twilio,
    post_signed,
    public_base,
    sms_number,
)
