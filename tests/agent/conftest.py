from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from helpdesk.roles import ADMINS_GROUP, AGENTS_GROUP
from tests.factories import IdentityFactory, TicketFactory
from tickets.models import Channel, Direction, IdentityKind, Message


def make_user(username: str, first_name: str = "", role: str | None = None, **extra: Any) -> Any:
    """Users built directly: the shared AgentFactory's `role` declaration is shadowed by a
    plain attribute in its subclasses, so it cannot build agents yet."""
    user = get_user_model().objects.create_user(
        username=username,
        password="pw",
        first_name=first_name,
        email=f"{username}@staff.example",
        **extra,
    )
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def agent(db: None) -> Any:
    return make_user("alex", "Alex", AGENTS_GROUP)


@pytest.fixture
def other_agent(db: None) -> Any:
    return make_user("sam", "Sam", AGENTS_GROUP)


@pytest.fixture
def admin_user(db: None) -> Any:
    return make_user("root", "Root", ADMINS_GROUP, is_staff=True)


@pytest.fixture
def plain_user(db: None) -> Any:
    return make_user("visitor", "Vic")


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
