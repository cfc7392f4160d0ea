"""The admin's dry run: which of the last 500 tickets a rule would match now, and what
its actions would change on each. Nothing is written."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone

from tickets.automation.conditions import Facts, conditions_compile
from tickets.automation.rules import ASSIGN_METHODS, macro_resolve, rule_validate, team_resolve
from tickets.models import Macro, Tag, Team, Ticket

DRY_RUN_TICKETS = 500


@dataclass(frozen=True)
class DryRunRow:
    ticket_id: int
    number: int | None
    subject: str
    status: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class DryRun:
    tested: int
    rows: tuple[DryRunRow, ...]


def _would(ticket: Ticket, tags: set[str], action: Mapping[str, Any]) -> str | None:
    """What one action would change on `ticket` (None: nothing, it is already so)."""
    field: str = action["field"]
    value: Any = action.get("value")
    if field in ("status", "priority"):
        return (
            None
            if getattr(ticket, field) == value
            else f"{field} {getattr(ticket, field)} → {value}"
        )
    if field == "team":
        team_id = team_resolve(value, path="team")
        if ticket.team_id == team_id:
            return None
        return f"team → {Team.objects.get(pk=team_id).name if team_id else 'none'}"
    if field == "assignee":
        if value in ASSIGN_METHODS:
            return None if ticket.assignee_id else f"assign by {value.replace('_', '-')}"
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: value}).first()
        if user is None and str(value).isdigit():
            user = get_user_model().objects.filter(pk=value).first()
        return None if user and ticket.assignee_id == user.pk else f"assignee → {value or 'none'}"
    if field == "add_tags":
        new = [t for t in value if t not in tags]
        return f"tags +{', +'.join(new)}" if new else None
    if field == "remove_tags":
        gone = [t for t in value if t in tags]
        return f"tags -{', -'.join(gone)}" if gone else None
    if field == "set_tags":
        return None if set(value) == tags else f"tags → {', '.join(value)}"
    if field in ("reply", "note"):
        macro = Macro.objects.get(pk=macro_resolve(value, path=field))
        return f"{'public reply' if field == 'reply' else 'internal note'} “{macro.name}”"
    return f"{field} {value}"


def rule_dry_run(
    *,
    conditions: Any,
    actions: Any,
    events: Any = None,
    time_rule: bool = False,
    now: datetime | None = None,
    limit: int = DRY_RUN_TICKETS,
) -> DryRun:
    """Raises RuleError for a rule that cannot be saved, like saving it would."""
    cleaned_conditions, cleaned_actions, _ = rule_validate(
        conditions=conditions, actions=actions, events=events, time_rule=time_rule
    )
    matches = conditions_compile(cleaned_conditions)
    now = now or timezone.now()
    tickets = list(
        Ticket.objects.select_related("customer")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name")))
        .order_by("-created_at", "-id")[:limit]
    )
    rows = []
    for ticket in tickets:
        facts = Facts(ticket, now=now)
        tags = {tag.name for tag in ticket.tags.all()}
        facts.__dict__["tags"] = tags  # read through the prefetch, not once per ticket
        if not matches(facts):
            continue
        changes = [_would(ticket, tags, a) for a in cleaned_actions]
        rows.append(
            DryRunRow(
                ticket_id=ticket.pk,
                number=ticket.number,
                subject=ticket.subject,
                status=ticket.get_status_display(),
                changes=tuple(c for c in changes if c) or ("nothing: already so",),
            )
        )
    return DryRun(tested=len(tickets), rows=tuple(rows))
