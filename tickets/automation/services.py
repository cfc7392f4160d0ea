"""Writes of rules: create, change, delete, reorder. Every one validates through
rules.rule_validate; the admin's form and the API both end here or in that check."""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from tickets.automation.errors import RuleError
from tickets.automation.models import Rule, TimeRule, Trigger
from tickets.automation.rules import rule_validate

R = TypeVar("R", bound=Rule)
POSITION_STEP = 10


def _fill(rule: Rule, data: dict[str, Any]) -> None:
    time_rule = isinstance(rule, TimeRule)
    for name in ("title", "active", "position", "description"):
        if name in data:
            setattr(rule, name, data[name])
    if "reply_as" in data:
        rule.reply_as_id = data["reply_as"]
    if not str(rule.title or "").strip():
        raise RuleError("title", "give the rule a title.")
    conditions, actions, events = rule_validate(
        conditions=data.get("conditions", rule.conditions),
        actions=data.get("actions", rule.actions),
        events=data.get("events", getattr(rule, "events", None)),
        time_rule=time_rule,
    )
    rule.conditions, rule.actions = conditions, actions
    if isinstance(rule, Trigger):
        rule.events = events


def _save(rule: Rule) -> None:
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise RuleError("title", f"a rule titled “{rule.title}” exists already.") from None


def rule_create(*, model: type[R], data: dict[str, Any]) -> R:
    rule = model()
    _fill(rule, data)
    _save(rule)
    return rule


def rule_update(*, rule: R, data: dict[str, Any]) -> R:
    _fill(rule, data)
    _save(rule)
    return rule


def rule_delete(*, rule: Rule) -> None:
    rule.delete()


@transaction.atomic
def rules_reorder(*, model: type[R], ids: Sequence[int]) -> list[R]:
    """Positions 10, 20, 30 ... in the order given; rules not named keep their place
    after them."""
    rules = {r.pk: r for r in model._default_manager.select_for_update().filter(pk__in=ids)}
    missing = [i for i in ids if i not in rules]
    if missing:
        raise RuleError("ids", f"there is no rule {missing[0]}.")
    if len(set(ids)) != len(ids):
        raise RuleError("ids", "name each rule once.")
    for n, rule_id in enumerate(ids, start=1):
        rule = rules[rule_id]
        rule.position = n * POSITION_STEP
        rule.save(update_fields=["position", "updated_at"])  # signals: caches reload
    return [rules[i] for i in ids]
