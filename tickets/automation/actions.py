"""A rule's actions applied to one ticket through the core services. Each returns the
words for the rule's timeline entry ("set team Billing")."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model

from tickets.automation.assignment import ticket_auto_assign
from tickets.automation.rules import ASSIGN_METHODS, macro_resolve, team_resolve, user_resolve
from tickets.macros import macro_context, macro_render_text
from tickets.models import Direction, IdentityKind, Macro, Message, Team, Ticket
from tickets.services import (
    identity_resolve,
    message_reply,
    ticket_assign,
    ticket_followers_add,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_team,
    ticket_tags_change,
)


class ActionSkipped(Exception):
    """An action that cannot apply to this ticket now (said in the timeline, not raised)."""


def _reply_author(ticket: Ticket, reply_as_id: int | None) -> Any:
    user_id = ticket.assignee_id or reply_as_id
    if user_id is None:
        raise ActionSkipped("no agent to send as (assign the ticket or set the rule's “reply as”)")
    return get_user_model().objects.get(pk=user_id)


def _answers_automated_mail(ticket: Ticket) -> bool:
    last = (
        Message.objects.filter(ticket=ticket, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("is_automated", flat=True)
        .first()
    )
    return bool(last)


def action_apply(
    *, ticket: Ticket, action: Mapping[str, Any], reply_as_id: int | None, rule_title: str
) -> str:
    field: str = action["field"]
    value: Any = action.get("value")
    if field == "status":
        ticket_set_status(ticket=ticket, status=value, actor=None)
        return f"status {value}"
    if field == "priority":
        ticket_set_priority(ticket=ticket, priority=value, actor=None)
        return f"priority {value}"
    if field == "team":
        team_id = team_resolve(value, path="team")
        team = Team.objects.get(pk=team_id) if team_id else None
        ticket_set_team(ticket=ticket, team=team, actor=None)
        return f"team {team.name if team else 'none'}"
    if field == "assignee":
        if value in ASSIGN_METHODS:
            return ticket_auto_assign(ticket=ticket, method=value, rule_title=rule_title)
        user_id = user_resolve(value, path="assignee")
        agent = get_user_model().objects.get(pk=user_id) if user_id else None
        ticket_assign(ticket=ticket, agent=agent, actor=None)
        return f"assignee {agent.get_username() if agent else 'none'}"
    if field in ("add_tags", "remove_tags", "set_tags"):
        names = list(value)
        if field == "add_tags":
            ticket_tags_change(ticket=ticket, actor=None, add=names)
            return "tags +" + ", +".join(names)
        if field == "remove_tags":
            ticket_tags_change(ticket=ticket, actor=None, remove=names)
            return "tags -" + ", -".join(names)
        current = list(ticket.tags.values_list("name", flat=True))
        ticket_tags_change(
            ticket=ticket, actor=None, add=names, remove=[t for t in current if t not in names]
        )
        return "tags " + ", ".join(names)
    if field == "add_follower":
        identity = identity_resolve(kind=IdentityKind.EMAIL, value=value)
        ticket_followers_add(ticket=ticket, identities=[identity], actor=None)
        return f"follower {value}"
    if field in ("reply", "note"):
        public = field == "reply"
        if public and _answers_automated_mail(ticket):
            # Never answer an auto-reply or a bounce: two robots would write for ever.
            raise ActionSkipped("the last message was automated mail; no reply sent")
        macro = Macro.objects.get(pk=macro_resolve(value, path=field))
        author = _reply_author(ticket, reply_as_id)
        fresh = Ticket.objects.select_related("customer").get(pk=ticket.pk)
        body = macro_render_text(body=macro.body, context=macro_context(ticket=fresh, agent=author))
        channel = value.get("channel") if isinstance(value, Mapping) else None
        message = message_reply(
            ticket=fresh, author=author, body_text=body, is_internal=not public, channel=channel
        )
        if public:
            # Sent by a rule, not typed by a person: the mail says so (Auto-Submitted).
            Message.objects.filter(pk=message.pk).update(is_automated=True)
        on = f" by {channel}" if channel else ""
        return f"{'reply' if public else 'note'} “{macro.name}”{on}"
    raise ActionSkipped(f"unknown action {field}")


def actions_apply(
    *,
    ticket: Ticket,
    actions: Iterable[Mapping[str, Any]],
    reply_as_id: int | None,
    rule_title: str,
) -> list[str]:
    done = []
    for action in actions:
        # Each service saves only its own fields; a fresh read keeps one action from
        # writing back what an earlier one (or a trigger it set off) changed.
        ticket.refresh_from_db()
        try:
            done.append(
                action_apply(
                    ticket=ticket, action=action, reply_as_id=reply_as_id, rule_title=rule_title
                )
            )
        except ActionSkipped as skipped:
            done.append(f"skipped {action['field']}: {skipped}")
    return done
