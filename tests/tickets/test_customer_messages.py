"""customer_message_record: a customer's words an agent writes down, as their message."""

import pytest

from tests.factories import IdentityFactory, TicketFactory
from tickets.customer_messages import customer_message_record
from tickets.domain_events import ActorKind, MessageAdded, events_captured
from tickets.errors import TicketError
from tickets.models import Direction, IdentityKind, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    ticket = TicketFactory(status=Status.SOLVED)
    identity = IdentityFactory(
        customer=ticket.customer, kind=IdentityKind.PHONE, value="+14155550100"
    )
    return ticket, identity


def test_it_records_an_inbound_public_message_and_reopens_a_solved_ticket(call, agent):
    ticket, identity = call

    with events_captured() as events:
        message = customer_message_record(
            ticket=ticket, identity=identity, channel="phone", body_text="Still broken.",
            recorded_by=agent,
        )  # fmt: skip

    assert (message.direction, message.channel, message.is_internal) == (
        Direction.INBOUND, "phone", False,
    )  # fmt: skip
    assert message.author_identity == identity and message.author_user is None
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Status.OPEN and ticket.last_inbound_at == message.created_at
    added = next(e for e in events if isinstance(e, MessageAdded))
    assert (added.direction, added.channel, added.is_internal) == ("inbound", "phone", False)
    assert added.actor.kind == ActorKind.AGENT and added.actor.user_id == agent.pk


@pytest.mark.parametrize(
    "change,code",
    [
        ({"channel": "email"}, "invalid_channel"),
        ({"body_text": "  "}, "empty_message"),
        ({"recorded_by": None}, "not_an_agent"),
        ({"identity": "other"}, "invalid_identity"),
    ],
)
def test_it_refuses_what_would_misrecord_the_history(call, agent, change, code):
    ticket, identity = call
    args = {"ticket": ticket, "identity": identity, "channel": "phone", "body_text": "Hi",
            "recorded_by": agent}  # fmt: skip
    if change.get("identity") == "other":
        change = {"identity": IdentityFactory()}
    args.update(change)

    with pytest.raises(TicketError) as refused:
        customer_message_record(**args)

    assert refused.value.code.value == code
    assert not ticket.messages.exists()
