"""Live chat gets minute-level targets; the default business-hours policy keeps email."""

from datetime import timedelta
from typing import Any

import pytest

from tickets.models import Channel, SlaPolicy
from tickets.services import message_reply, ticket_create
from tickets.sla.demo import DEMO_CHAT_POLICY, sla_demo_setup
from tickets.sla.services import sla_policy_for

from .conftest import berlin

pytestmark = pytest.mark.django_db


def test_it_gives_a_chat_ticket_the_chat_policy_and_an_email_ticket_the_default(
    customer: Any, clock: Any
) -> None:
    default = sla_demo_setup()
    chat_policy = SlaPolicy.objects.get(name=DEMO_CHAT_POLICY)

    chat = ticket_create(customer=customer, subject="Hi", channel=Channel.CHAT)
    email = ticket_create(customer=customer, subject="Invoice", channel=Channel.EMAIL)
    chat.refresh_from_db()
    email.refresh_from_db()

    assert sla_policy_for(ticket=chat) == chat_policy and chat.sla_policy == chat_policy
    assert sla_policy_for(ticket=email) == default and email.sla_policy == default
    # Monday 10:00 Berlin: two minutes for the chat, four business hours for the email.
    assert chat.first_response_due_at == berlin(2026, 3, 2, 10, 2)
    assert chat.resolution_due_at == berlin(2026, 3, 2, 14, 0)
    assert email.first_response_due_at == berlin(2026, 3, 2, 14, 0)


def test_it_runs_the_chat_clock_around_the_clock(customer: Any, clock: Any) -> None:
    sla_demo_setup()
    clock(berlin(2026, 3, 7, 23, 0))  # Saturday night: the office is closed

    chat = ticket_create(customer=customer, subject="Hi", channel=Channel.CHAT)
    email = ticket_create(customer=customer, subject="Invoice", channel=Channel.EMAIL)
    chat.refresh_from_db()
    email.refresh_from_db()

    assert chat.first_response_due_at == berlin(2026, 3, 7, 23, 2)
    assert email.first_response_due_at == berlin(2026, 3, 9, 13, 0)


def test_it_sets_the_chat_next_response_target_in_minutes(
    customer: Any, agent: Any, clock: Any, make_inbound: Any
) -> None:
    from channels_app.ingest import inbound_message_ingest

    sla_demo_setup()
    chat = ticket_create(customer=customer, subject="Hi", channel=Channel.CHAT)
    message_reply(ticket=chat, author=agent, body_text="Hello!", channel=Channel.EMAIL)
    clock(berlin(2026, 3, 2, 10, 1))
    inbound_message_ingest(
        message=make_inbound(
            ticket_reference=chat.reply_token, received_at=berlin(2026, 3, 2, 10, 1)
        )
    )
    chat.refresh_from_db()

    assert chat.next_response_due_at == berlin(2026, 3, 2, 10, 1) + timedelta(minutes=5)


def test_it_leaves_an_edited_chat_policy_alone_when_the_demo_setup_runs_again(
    customer: Any, clock: Any
) -> None:
    sla_demo_setup()
    SlaPolicy.objects.filter(name=DEMO_CHAT_POLICY).update(order=5000)

    sla_demo_setup()

    assert SlaPolicy.objects.get(name=DEMO_CHAT_POLICY).order == 5000
    assert SlaPolicy.objects.count() == 2
