"""Macros: a canned reply rendered from placeholders (tickets.macro_text), plus field
changes."""

from typing import Any

from tickets.macro_text import MAX_MACRO_CHARS, macro_context, macro_render_text
from tickets.models import Macro, Ticket

__all__ = ["MAX_MACRO_CHARS", "macro_changes", "macro_context", "macro_render", "macro_render_text"]


def macro_render(*, macro: Macro, ticket: Ticket, agent: Any) -> str:
    return macro_render_text(body=macro.body, context=macro_context(ticket=ticket, agent=agent))


def macro_changes(*, macro: Macro) -> list[str]:
    """What applying the macro changes besides the text, in the order macro_apply applies
    it, worded for the composer ("status: Pending"). Reads set_team and set_assignee:
    load the macro with them (agent_selectors.macro_get_for does)."""
    changes = []
    if macro.set_priority:
        changes.append(f"priority: {macro.get_set_priority_display()}")
    if macro.set_team_id is not None and macro.set_team is not None:
        changes.append(f"team: {macro.set_team.name}")
    if macro.set_assignee_id is not None and macro.set_assignee is not None:
        who = macro.set_assignee
        changes.append(f"assignee: {(who.get_full_name() or who.get_username()).strip()}")
    if macro.tag_list:
        changes.append(f"tags: +{', +'.join(macro.tag_list)}")
    if macro.set_status:
        changes.append(f"status: {macro.get_set_status_display()}")
    return changes
