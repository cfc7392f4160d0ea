from typing import Any

import pytest

from channels_app.email.sender import email_build
from channels_app.models import Delivery
from tickets.models import Macro, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def thanks(db: None) -> Macro:
    return Macro.objects.create(
        name="Thanks", body="Hello {{ customer.first_name }}, we got #{{ ticket.number }}."
    )


def test_a_reply_from_a_rule_is_rendered_and_marked_automatic(
    make_trigger: Any, ingest: Any, agent: Any, thanks: Macro
) -> None:
    make_trigger(
        "Acknowledge",
        events=["message.inbound"],
        actions=[{"field": "reply", "value": "Thanks"}],
        reply_as=agent,
    )
    ticket = ingest(name="Dana Customer")
    reply = Message.objects.get(ticket=ticket, direction="outbound")
    assert reply.body_text == f"Hello Dana, we got #{ticket.number}."
    assert reply.is_automated
    mail = email_build(Delivery.objects.get(message=reply))
    assert mail.extra_headers["Auto-Submitted"] == "auto-replied"


def test_a_rule_never_answers_automated_mail(
    make_trigger: Any, ingest: Any, agent: Any, thanks: Macro
) -> None:
    make_trigger(
        "Acknowledge",
        events=["message.inbound"],
        actions=[{"field": "reply", "value": "Thanks"}],
        reply_as=agent,
    )
    ticket = ingest(is_automated=True)
    assert not Message.objects.filter(ticket=ticket, direction="outbound").exists()
    from tickets.models import TicketEvent

    text = TicketEvent.objects.get(ticket=ticket, kind="automation").data["text"]
    assert "automated mail" in text


def test_a_note_without_an_agent_to_send_as_is_skipped_and_said(
    make_trigger: Any, ingest: Any, thanks: Macro
) -> None:
    make_trigger(
        "Note",
        actions=[{"field": "note", "value": "Thanks"}, {"field": "priority", "value": "low"}],
    )
    ticket = ingest()
    assert ticket.priority == "low"  # the other actions still ran
    from tickets.models import TicketEvent

    text = TicketEvent.objects.get(ticket=ticket, kind="automation").data["text"]
    assert "skipped note: no agent to send as" in text


def test_a_rule_texts_the_customer(
    make_trigger: Any, ingest: Any, agent: Any, thanks: Macro
) -> None:
    from tickets.automation.errors import RuleError
    from tickets.automation.rules import rule_validate

    make_trigger(
        "Text them",
        actions=[{"field": "reply", "value": {"macro": "Thanks", "channel": "sms"}}],
        reply_as=agent,
    )
    ticket = ingest(channel="sms", kind="phone", sender="+14155550123", subject="")
    reply = Message.objects.get(ticket=ticket, direction="outbound")
    assert reply.channel == "sms"
    assert Delivery.objects.get(message=reply).recipient == "+14155550123"
    with pytest.raises(RuleError) as raised:
        rule_validate(
            conditions={},
            actions=[{"field": "reply", "value": {"macro": "Thanks", "channel": "fax"}}],
            events=["ticket.created"],
        )
    assert raised.value.field == "actions[0].value.channel"
