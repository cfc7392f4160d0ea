from typing import Any

import pytest
from django.test import Client

from tests.factories import IdentityFactory, TicketFactory, UserFactory
from tickets.models import Channel, Direction, IdentityKind, Message


@pytest.fixture
def plain_user(db: None) -> Any:
    """Signed in, but neither agent nor admin."""
    return UserFactory(username="visitor", first_name="Vic")


@pytest.fixture
def agent_client(agent: Any) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def make_ticket(customer: Any) -> Any:
    """A ticket with one inbound email from the default customer."""

    def make(
        subject: str = "Where is my order?", body: str = "Hello, where is my order?", **fields: Any
    ) -> Any:
        ticket = TicketFactory(subject=subject, customer=fields.pop("customer", customer), **fields)
        identity = ticket.customer.identities.filter(kind=IdentityKind.EMAIL).first()
        if identity is None:
            identity = IdentityFactory(customer=ticket.customer)
        Message.objects.create(
            ticket=ticket,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            author_identity=identity,
            subject=subject,
            body_text=body,
        )
        return ticket

    return make
