"""Every condition field with each of its operators, on facts built from real rows."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import AgentFactory, CustomerFactory, IdentityFactory, TicketFactory
from tickets.automation.conditions import Facts, conditions_compile
from tickets.automation.errors import RuleError
from tickets.automation.rules import CONDITION_FIELDS, condition_clean, rule_validate
from tickets.domain_events import FieldChange
from tickets.models import Message, Organization, SatisfactionRating, Tag, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    org = Organization.objects.create(name="Acme")
    customer = CustomerFactory(organization=org)
    IdentityFactory(customer=customer, value="pat@acme.example")
    team = Team.objects.create(name="Billing")
    agent = AgentFactory(username="sam")
    ticket = TicketFactory(
        customer=customer, subject="Refund for order 7", status="open", priority="high",
        channel="email", team=team, assignee=agent,
    )  # fmt: skip
    ticket.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="refund"))
    message = Message.objects.create(
        ticket=ticket, channel="email", direction="inbound", body_text="Please refund my invoice"
    )
    SatisfactionRating.objects.create(ticket=ticket, customer=customer, score=2)
    return {"ticket": ticket, "message": message, "team": team, "agent": agent, "org": org}


def _holds(
    world: dict[str, Any], field: str, operator: str, value: Any = None, **facts: Any
) -> bool:
    condition = condition_clean(
        {"field": field, "operator": operator, "value": value, **facts.pop("extra", {})},
        path="c",
        time_rule=True,
    )
    facts.setdefault("message_id", world["message"].pk)
    return conditions_compile({"all": [condition]})(Facts(world["ticket"], **facts))


CASES = [
    ("status", "is", "open", True),
    ("status", "is", "pending", False),
    ("status", "is_not", "pending", True),
    ("priority", "is", "high", True),
    ("priority", "is_not", "high", False),
    ("priority", "less_than", "urgent", True),
    ("priority", "greater_than", "high", False),
    ("priority", "greater_than", "normal", True),
    ("channel", "is", "email", True),
    ("channel", "is_not", "email", False),
    ("team", "is", "Billing", True),
    ("team", "is_not", "Billing", False),
    ("team", "is", None, False),
    ("assignee", "is", "sam", True),
    ("assignee", "is", None, False),
    ("assignee", "is_not", None, True),
    ("tags", "includes", ["vip", "other"], True),
    ("tags", "contains", ["vip", "other"], False),
    ("tags", "contains", ["vip", "refund"], True),
    ("tags", "not_includes", ["other"], True),
    ("tags", "not_includes", ["vip"], False),
    ("subject", "contains", "REFUND", True),
    ("subject", "not_contains", "refund", False),
    ("subject", "is", "refund for order 7", True),
    ("subject", "is_not", "Refund", True),
    ("subject", "matches_word", "order", True),
    ("subject", "matches_word", "ord", False),
    ("body", "contains", "invoice", True),
    ("body", "not_contains", "invoice", False),
    ("body", "matches_word", "voice", False),
    ("body", "is", "please refund my invoice", True),
    ("body", "is_not", "x", True),
    ("customer_email_domain", "is", "acme.example", True),
    ("customer_email_domain", "is_not", "acme.example", False),
    ("customer_email_domain", "contains", "acme", True),
    ("customer_email_domain", "not_contains", "acme", False),
    ("organization", "is", "Acme", True),
    ("organization", "is_not", "Acme", False),
    ("message_direction", "is", "inbound", True),
    ("message_direction", "is_not", "inbound", False),
    ("author_kind", "is", "customer", True),
    ("author_kind", "is_not", "customer", False),
    ("satisfaction_score", "is", 2, True),
    ("satisfaction_score", "is_not", 2, False),
    ("satisfaction_score", "less_than", 3, True),
    ("satisfaction_score", "greater_than", 3, False),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_each_field_and_operator(
    world: Any, field: str, operator: str, value: Any, expected: bool
) -> None:
    assert _holds(world, field, operator, value) is expected


def test_every_field_and_operator_is_covered() -> None:
    covered = {(f, o) for f, o, _, _ in CASES}
    untested_here = {"mailbox", "business_hours"} | {
        name for name, spec in CONDITION_FIELDS.items() if spec.time
    }
    for name, spec in CONDITION_FIELDS.items():
        if name in untested_here:
            continue
        for operator in spec.operators:
            if operator.startswith("changed"):
                continue
            assert (name, operator) in covered, (name, operator)


@pytest.mark.parametrize("field", ["status", "priority", "team", "assignee"])
def test_changes_from_and_to(world: Any, field: str) -> None:
    before, after = {
        "status": ("new", "open"),
        "priority": ("normal", "high"),
        "team": (None, world["team"].pk),
        "assignee": (None, world["agent"].pk),
    }[field]
    named = {"team": "Billing", "assignee": "sam"}.get(field, after)
    changes = (FieldChange(field, before, after),)
    assert _holds(world, field, "changed", changes=changes)
    assert _holds(world, field, "changed_to", named, changes=changes)
    assert not _holds(world, field, "changed_from", named, changes=changes)
    assert not _holds(world, field, "changed")  # no change in this event


def test_the_change_is_read_before_the_publisher_saved_it(world: Any) -> None:
    changes = (FieldChange("priority", "high", "low"),)
    assert _holds(world, "priority", "is", "low", changes=changes)


def test_mailbox_is_the_address_written_to(world: Any) -> None:
    from channels_app.models import RawInbound

    raw = RawInbound.objects.create(
        channel="email", adapter="email", payload=b"", meta={"recipient": "billing@desk.example"}
    )
    Message.objects.filter(pk=world["message"].pk).update(raw=raw)
    assert _holds(world, "mailbox", "is", "Billing@desk.example")
    assert not _holds(world, "mailbox", "is_not", "billing@desk.example")


def test_hours_since_conditions(world: Any) -> None:
    now = timezone.now()
    ticket = world["ticket"]
    ticket.created_at = now - timedelta(hours=50)
    ticket.updated_at = now - timedelta(hours=5)
    ticket.last_inbound_at = now - timedelta(hours=30)
    ticket.sla_next_due_at = now + timedelta(hours=2)
    assert _holds(world, "hours_since_created", "greater_than", 48, now=now)
    assert not _holds(world, "hours_since_updated", "greater_than", 6, now=now)
    assert _holds(world, "hours_since_updated", "less_than", 6, now=now)
    assert _holds(world, "hours_since_customer_message", "greater_than", 24, now=now)
    assert _holds(world, "hours_until_sla_due", "less_than", 3, now=now)
    assert not _holds(world, "hours_since_solved", "greater_than", 0, now=now)  # not solved
    assert not _holds(world, "hours_since_pending", "greater_than", 0, now=now)
    assert not _holds(world, "hours_since_agent_reply", "greater_than", 0, now=now)
    assert _holds(world, "hours_since_status_changed", "greater_than", 49, now=now)


def test_any_needs_one_all_needs_every(world: Any) -> None:
    yes = {"field": "channel", "operator": "is", "value": "email"}
    no = {"field": "channel", "operator": "is", "value": "sms"}
    facts = Facts(world["ticket"])
    assert conditions_compile({"all": [yes], "any": [no, yes]})(facts)
    assert not conditions_compile({"all": [yes], "any": [no]})(facts)
    assert not conditions_compile({"all": [yes, no], "any": []})(facts)
    assert conditions_compile({"all": [], "any": []})(facts)


@pytest.mark.parametrize(
    ("condition", "where", "says"),
    [
        ({"field": "colour", "operator": "is", "value": "red"}, "c.field", "unknown field"),
        ({"field": "status", "operator": "contains", "value": "o"}, "c.operator", "does not apply"),
        ({"field": "status", "operator": "is", "value": "lost"}, "c.value", "is not a status"),
        ({"field": "team", "operator": "is", "value": "Nobody"}, "c.value", "no team"),
        ({"field": "tags", "operator": "includes", "value": 3}, "c.value", "list of tag"),
        ({"field": "subject", "operator": "contains", "value": " "}, "c.value", "text"),
        ({"field": "business_hours", "operator": "within_business_hours", "value": "y"},
         "c.value", "true"),
        ({"field": "satisfaction_score", "operator": "is", "value": "x"}, "c.value", "number"),
    ],
)  # fmt: skip
def test_a_bad_condition_names_its_part(condition: dict[str, Any], where: str, says: str) -> None:
    with pytest.raises(RuleError) as raised:
        condition_clean(condition, path="c", time_rule=False)
    assert raised.value.field == where
    assert says in raised.value.detail


def test_time_fields_belong_to_time_rules() -> None:
    with pytest.raises(RuleError, match="time rule"):
        rule_validate(
            conditions={"all": [{"field": "hours_since_created", "operator": "greater_than",
                                 "value": 1}]},
            actions=[{"field": "status", "value": "open"}],
            events=["ticket.created"],
        )  # fmt: skip


def test_bad_actions_name_their_part() -> None:
    for action, where in [
        ({"field": "explode"}, "actions[0].field"),
        ({"field": "priority", "value": "asap"}, "actions[0].value"),
        ({"field": "assignee", "value": "nobody-here"}, "actions[0].value"),
        ({"field": "reply", "value": "No such macro"}, "actions[0].value"),
        ({"field": "add_follower", "value": "not-an-address"}, "actions[0].value"),
    ]:
        with pytest.raises(RuleError) as raised:
            rule_validate(conditions={}, actions=[action], events=["ticket.created"])
        assert raised.value.field == where


def test_within_business_hours_follows_local_time_across_dst(world: Any) -> None:
    from datetime import UTC, datetime

    from tickets.sla.calendar import Calendar

    week = tuple(((9 * 60, 17 * 60),) if d < 5 else () for d in range(7))
    calendar = Calendar(tz="Europe/Berlin", week=week)
    within = conditions_compile(
        {"all": [{"field": "business_hours", "operator": "within_business_hours", "value": True}]}
    )
    outside = conditions_compile(
        {"all": [{"field": "business_hours", "operator": "within_business_hours", "value": False}]}
    )

    def facts(at: datetime) -> Facts:
        made = Facts(world["ticket"], now=at)
        made.__dict__["calendar"] = calendar
        return made

    # 07:30 UTC is 08:30 in Berlin on Friday 27 March (CET), 09:30 on Monday 30 (CEST).
    before_dst = facts(datetime(2026, 3, 27, 7, 30, tzinfo=UTC))
    after_dst = facts(datetime(2026, 3, 30, 7, 30, tzinfo=UTC))
    assert outside(before_dst) and not within(before_dst)
    assert within(after_dst) and not outside(after_dst)
    # 15:30 UTC: 16:30 CET (open), 17:30 CEST (closed).
    assert within(facts(datetime(2026, 3, 27, 15, 30, tzinfo=UTC)))
    assert outside(facts(datetime(2026, 3, 30, 15, 30, tzinfo=UTC)))
