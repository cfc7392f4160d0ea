"""What a rule may say: the condition fields with their operators and values, the
actions, and the one validation every way of saving a rule goes through.

A condition is `{"field": ..., "operator": ..., "value": ...}` (time fields also take
`"calendar": "business"`); `conditions` is `{"all": [...], "any": [...]}`: every `all`
condition and, when there are any, at least one `any` condition must hold. An action is
`{"field": ..., "value": ...}`.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from tickets.automation.errors import RuleError
from tickets.automation.models import TriggerEvent
from tickets.models import Channel, Direction, Macro, Organization, Priority, Status, Team

# Condition value kinds: how a value is checked and how the admin offers it.
CHOICE, TEXT, TEAM, USER, TAGS, NUMBER, BOOL, ORGANIZATION = (
    "choice",
    "text",
    "team",
    "user",
    "tags",
    "number",
    "bool",
    "organization",
)

CHANGE_OPERATORS = ("changed", "changed_to", "changed_from")
OPERATORS = (
    "is",
    "is_not",
    "contains",
    "not_contains",
    "matches_word",
    "includes",
    "not_includes",
    "less_than",
    "greater_than",
    "changed",
    "changed_to",
    "changed_from",
    "within_business_hours",
)

AUTHOR_KINDS = ("customer", "agent", "system")
MESSAGE_DIRECTIONS = (Direction.INBOUND.value, Direction.OUTBOUND.value, "internal")


@dataclass(frozen=True)
class FieldSpec:
    label: str
    operators: tuple[str, ...]
    kind: str
    choices: tuple[str, ...] = ()
    time: bool = False  # an "hours since" field: time rules only


_CHOICE_OPS = ("is", "is_not")
_TEXT_OPS = ("is", "is_not", "contains", "not_contains", "matches_word")
_HOURS_OPS = ("less_than", "greater_than")

CONDITION_FIELDS: dict[str, FieldSpec] = {
    "status": FieldSpec("Status", (*_CHOICE_OPS, *CHANGE_OPERATORS), CHOICE, tuple(Status.values)),
    "priority": FieldSpec(
        "Priority",
        (*_CHOICE_OPS, "less_than", "greater_than", *CHANGE_OPERATORS),
        CHOICE,
        tuple(Priority.values),
    ),
    "channel": FieldSpec("Channel", _CHOICE_OPS, CHOICE, tuple(Channel.values)),
    "team": FieldSpec("Team", (*_CHOICE_OPS, *CHANGE_OPERATORS), TEAM),
    "assignee": FieldSpec("Assignee", (*_CHOICE_OPS, *CHANGE_OPERATORS), USER),
    "tags": FieldSpec("Tags", ("includes", "not_includes", "contains"), TAGS),
    "subject": FieldSpec("Subject", _TEXT_OPS, TEXT),
    "body": FieldSpec("Message text", _TEXT_OPS, TEXT),
    "customer_email_domain": FieldSpec(
        "Customer's email domain", ("is", "is_not", "contains", "not_contains"), TEXT
    ),
    "organization": FieldSpec("Organization", _CHOICE_OPS, ORGANIZATION),
    "mailbox": FieldSpec("Mailbox written to (address)", _CHOICE_OPS, TEXT),
    "business_hours": FieldSpec("Business hours", ("within_business_hours",), BOOL),
    "message_direction": FieldSpec("Message direction", _CHOICE_OPS, CHOICE, MESSAGE_DIRECTIONS),
    "author_kind": FieldSpec("Message author", _CHOICE_OPS, CHOICE, AUTHOR_KINDS),
    "satisfaction_score": FieldSpec(
        "Satisfaction score", ("is", "is_not", "less_than", "greater_than"), NUMBER
    ),
    "hours_since_created": FieldSpec("Hours since created", _HOURS_OPS, NUMBER, time=True),
    "hours_since_updated": FieldSpec("Hours since updated", _HOURS_OPS, NUMBER, time=True),
    "hours_since_status_changed": FieldSpec(
        "Hours since the status changed", _HOURS_OPS, NUMBER, time=True
    ),
    "hours_since_pending": FieldSpec("Hours pending", _HOURS_OPS, NUMBER, time=True),
    "hours_since_solved": FieldSpec("Hours since solved", _HOURS_OPS, NUMBER, time=True),
    "hours_since_customer_message": FieldSpec(
        "Hours since the customer's last message", _HOURS_OPS, NUMBER, time=True
    ),
    "hours_since_agent_reply": FieldSpec(
        "Hours since the last agent reply", _HOURS_OPS, NUMBER, time=True
    ),
    "hours_until_sla_due": FieldSpec("Hours until the SLA is due", _HOURS_OPS, NUMBER, time=True),
}

ASSIGN_METHODS = ("round_robin", "least_loaded")

ACTION_FIELDS: dict[str, str] = {
    "status": "Set status",
    "priority": "Set priority",
    "team": "Set team",
    "assignee": "Set assignee (agent, round_robin, least_loaded, or empty)",
    "add_tags": "Add tags",
    "remove_tags": "Remove tags",
    "set_tags": "Set tags",
    "add_follower": "Add follower (email address)",
    "reply": "Send a public reply from a macro (optionally on a channel: SMS to the customer)",
    "note": "Add an internal note from a macro",
}

TIME_STATUSES = frozenset(Status.values) - {Status.CLOSED}
_WORD = re.compile(r"\w+")


def _err(path: str, message: str) -> RuleError:
    return RuleError(path, message)


def team_resolve(value: Any, *, path: str) -> int | None:
    if value in (None, ""):
        return None
    query = Q(pk=value) if isinstance(value, int) or str(value).isdigit() else Q(name=value)
    team_id = Team.objects.filter(query).values_list("pk", flat=True).first()
    if team_id is None:
        raise _err(path, f"there is no team “{value}”. Use a team's name or id.")
    return int(team_id)


def user_resolve(value: Any, *, path: str) -> int | None:
    if value in (None, ""):
        return None
    user_model = get_user_model()
    if isinstance(value, int) or str(value).isdigit():
        query = Q(pk=value)
    else:
        query = Q(**{user_model.USERNAME_FIELD: value})
    user_id = user_model.objects.filter(query).values_list("pk", flat=True).first()
    if user_id is None:
        raise _err(path, f"there is no agent “{value}”. Use a username or id.")
    return int(user_id)


def organization_resolve(value: Any, *, path: str) -> int | None:
    if value in (None, ""):
        return None
    query = Q(pk=value) if isinstance(value, int) or str(value).isdigit() else Q(name=value)
    org_id = Organization.objects.filter(query).values_list("pk", flat=True).first()
    if org_id is None:
        raise _err(path, f"there is no organization “{value}”.")
    return int(org_id)


def macro_resolve(value: Any, *, path: str) -> int:
    if isinstance(value, Mapping):
        value = value.get("macro")
    if value in (None, ""):
        raise _err(path, "name the macro to send (its name or id).")
    shared = Macro.objects.filter(owner__isnull=True, is_active=True)
    query = Q(pk=value) if isinstance(value, int) or str(value).isdigit() else Q(name=value)
    macro_id = shared.filter(query).values_list("pk", flat=True).first()
    if macro_id is None:
        raise _err(path, f"there is no active shared macro “{value}”.")
    return int(macro_id)


def _tag_list(value: Any, *, path: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in (part.strip() for part in value.split(",")) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _err(path, 'give a list of tag names, e.g. ["refund"].')
    return [v.strip().lower() for v in value]


def _number(value: Any, *, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _err(path, "give a number.")
    try:
        return float(value)
    except ValueError:
        raise _err(path, f"“{value}” is not a number.") from None


def condition_clean(raw: Any, *, path: str, time_rule: bool) -> dict[str, Any]:
    """One condition checked and returned in its stored form; raises RuleError."""
    if not isinstance(raw, Mapping):
        raise _err(path, "a condition is an object with field, operator and value.")
    field = raw.get("field")
    spec = CONDITION_FIELDS.get(field) if isinstance(field, str) else None
    if spec is None:
        raise _err(f"{path}.field", f"unknown field “{field}”. Use one of: "
                   f"{', '.join(CONDITION_FIELDS)}.")  # fmt: skip
    if spec.time and not time_rule:
        raise _err(f"{path}.field", f"“{field}” is a time condition: use it in a time rule.")
    operator = raw.get("operator")
    if operator not in spec.operators:
        raise _err(
            f"{path}.operator",
            f"“{operator}” does not apply to {field}. Use one of: {', '.join(spec.operators)}.",
        )
    value = raw.get("value")
    cleaned: dict[str, Any] = {"field": field, "operator": operator}
    vpath = f"{path}.value"
    if operator == "changed":
        value = None
    elif spec.kind == CHOICE:
        if value not in spec.choices:
            raise _err(vpath, f"“{value}” is not a {field}. Use one of: {', '.join(spec.choices)}.")
    elif spec.kind == TEAM:
        team_resolve(value, path=vpath)
    elif spec.kind == USER:
        user_resolve(value, path=vpath)
    elif spec.kind == ORGANIZATION:
        organization_resolve(value, path=vpath)
    elif spec.kind == TAGS:
        value = _tag_list(value, path=vpath)
    elif spec.kind == TEXT:
        if not isinstance(value, str) or not value.strip():
            raise _err(vpath, "give the text to compare with.")
        value = value.strip()
    elif spec.kind == NUMBER:
        _number(value, path=vpath)
    elif spec.kind == BOOL and not isinstance(value, bool):
        raise _err(vpath, "give true (within business hours) or false (outside).")
    cleaned["value"] = value
    if spec.time:
        calendar = raw.get("calendar", "calendar")
        if calendar not in ("calendar", "business"):
            raise _err(f"{path}.calendar", "use “calendar” hours or “business” hours.")
        cleaned["calendar"] = calendar
    return cleaned


def action_clean(raw: Any, *, path: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _err(path, "an action is an object with field and value.")
    field = raw.get("field")
    if field not in ACTION_FIELDS:
        raise _err(f"{path}.field", f"unknown action “{field}”. Use one of: "
                   f"{', '.join(ACTION_FIELDS)}.")  # fmt: skip
    value = raw.get("value")
    vpath = f"{path}.value"
    if field == "status":
        if value not in Status.values:
            raise _err(vpath, f"“{value}” is not a status. Use one of: {', '.join(Status.values)}.")
    elif field == "priority":
        if value not in Priority.values:
            raise _err(
                vpath, f"“{value}” is not a priority. Use one of: {', '.join(Priority.values)}."
            )
    elif field == "team":
        team_resolve(value, path=vpath)
    elif field == "assignee":
        if value not in ASSIGN_METHODS:
            user_resolve(value, path=vpath)
    elif field in ("add_tags", "remove_tags", "set_tags"):
        value = _tag_list(value, path=vpath)
    elif field == "add_follower":
        if not isinstance(value, str) or "@" not in value:
            raise _err(vpath, "give the follower's email address.")
        value = value.strip().lower()
    elif field in ("reply", "note"):
        macro_resolve(value, path=vpath)
        channel = value.get("channel") if isinstance(value, Mapping) else None
        if isinstance(value, Mapping):
            value = value.get("macro")
        if channel not in (None, ""):
            if field == "note" or channel not in Channel.values:
                raise _err(
                    f"{vpath}.channel",
                    f"a reply goes out on one of: {', '.join(Channel.values)} (notes on none).",
                )
            value = {"macro": value, "channel": channel}
    return {"field": field, "value": value}


def rule_validate(
    *,
    conditions: Any,
    actions: Any,
    events: Any = None,
    time_rule: bool = False,
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], list[str]]:
    """The rule's conditions, actions and events checked and cleaned, or RuleError naming
    the first bad part. The one validation the admin, the API and the engine share."""
    if conditions in (None, ""):
        conditions = {}
    if not isinstance(conditions, Mapping) or set(conditions) - {"all", "any"}:
        raise _err("conditions", "give an object with “all” and “any” lists.")
    cleaned_conditions: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    for group in ("all", "any"):
        items = conditions.get(group) or []
        if not isinstance(items, list):
            raise _err(f"conditions.{group}", "give a list of conditions.")
        cleaned_conditions[group] = [
            condition_clean(item, path=f"conditions.{group}[{n}]", time_rule=time_rule)
            for n, item in enumerate(items)
        ]
    if not isinstance(actions, list) or not actions:
        raise _err("actions", "a rule needs at least one action.")
    cleaned_actions = [action_clean(a, path=f"actions[{n}]") for n, a in enumerate(actions)]
    cleaned_events: list[str] = []
    if not time_rule:
        if not isinstance(events, list) or not events:
            raise _err("events", f"name at least one event: {', '.join(TriggerEvent.values)}.")
        for n, event in enumerate(events):
            if event not in TriggerEvent.values:
                raise _err(
                    f"events[{n}]",
                    f"unknown event “{event}”. Use one of: {', '.join(TriggerEvent.values)}.",
                )
        cleaned_events = list(dict.fromkeys(events))
    else:
        has_time = any(CONDITION_FIELDS[c["field"]].time for c in cleaned_conditions["all"])
        if not has_time:
            raise _err(
                "conditions.all",
                "a time rule needs at least one “hours since” condition among “all”.",
            )
    return cleaned_conditions, cleaned_actions, cleaned_events


def words_of(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def field_choices() -> dict[str, Any]:
    """The admin editor's lists: fields with their operators and value choices."""
    return {
        "conditions": {
            name: {
                "label": spec.label,
                "operators": list(spec.operators),
                "kind": spec.kind,
                "choices": list(spec.choices),
                "time": spec.time,
            }
            for name, spec in CONDITION_FIELDS.items()
        },
        "actions": dict(ACTION_FIELDS),
        "events": dict(TriggerEvent.choices),
        "statuses": list(Status.values),
        "priorities": list(Priority.values),
    }


def iter_conditions(
    conditions: Mapping[str, Iterable[Mapping[str, Any]]],
) -> Iterable[Mapping[str, Any]]:
    yield from conditions.get("all", [])
    yield from conditions.get("any", [])
