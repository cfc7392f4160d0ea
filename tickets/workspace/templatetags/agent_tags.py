"""Small helpers for agent templates that render once per row (an include costs more)."""

from html import escape as _escape
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.timezone import localtime

from tickets.models import Channel, SlaTargetKind
from tickets.sla.selectors import SlaState
from tickets.workspace.selectors import QueueRow

register = template.Library()

CHANNEL_ICONS: dict[str, str] = {
    Channel.EMAIL: "✉",
    Channel.SMS: "📱",
    Channel.CHAT: "💬",
    Channel.WEB: "🌐",
    Channel.API: "⚙",
    Channel.PHONE: "☎",
}


@register.simple_tag
def channel_icon(channel: str) -> str:
    return format_html(
        '<span class="ch ch-{0}" title="{0}" aria-label="{0}">{1}</span>',
        channel,
        CHANNEL_ICONS.get(channel, "•"),
    )


SLA_TARGETS: dict[str, str] = {
    SlaTargetKind.FIRST_RESPONSE: "First reply",
    SlaTargetKind.NEXT_RESPONSE: "Next reply",
    SlaTargetKind.RESOLUTION: "Resolution",
}


def _duration(minutes: int) -> str:
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


@register.simple_tag
def sla_badge(state: SlaState | None, compact: bool = False) -> str:
    """The next SLA target, its state and the business time left (or over). `compact`
    (queue rows) leaves the target's name to the tooltip."""
    if state is None:
        return mark_safe('<span class="sla sla-none muted" title="No SLA applies">—</span>')
    target = SLA_TARGETS.get(state.target, state.target)
    due = f", due {state.due_at:%Y-%m-%d %H:%M} UTC" if state.due_at else ""
    label = "" if compact else f"{target} "
    if state.state == "paused":
        text = f"{label}paused ({_duration(state.business_minutes_left)} left)"
    elif state.state == "breached":
        text = f"{label}overdue {_duration(state.business_minutes_left)}"
    else:
        text = f"{label}in {_duration(state.business_minutes_left)}"
    if compact:
        text = text[0].upper() + text[1:]
    return format_html(
        '<span class="sla sla-{0}" title="{1} ({2} business time{3})">{4}</span>',
        state.state,
        target,
        state.state,
        due,
        text,
    )


# One queue row. Built here rather than in the template: a 50-row page resolves some
# thousand template variables otherwise, most of the page's render time.
_ROW = (
    '<tr class="ticket-row{unread_class}" data-ticket-id="{pk}" data-href="{url}">\n'
    '  <td class="select-cell"><input type="checkbox" name="ids" value="{pk}" form="bulk-form" '
    'aria-label="Select #{number}"></td>\n'
    '  <td class="unread-cell">{unread_dot}</td>\n'
    '  <td class="number-cell"><a class="ticket-link" href="{url}">#{number}</a></td>\n'
    '  <td class="subject-cell" title="{subject_title}">'
    '<a href="{url}" class="subject">{subject}</a>{tags}\n'
    '    <span class="preview muted">{arrow}{preview}</span></td>\n'
    '  <td class="customer-cell" title="{customer}">{customer}</td>\n'
    '  <td class="channel-cell">{channel}</td>\n'
    '  <td class="status-cell"><span class="badge badge-{status}">{status_label}</span></td>\n'
    '  <td class="priority-cell"><span class="prio prio-{priority}">{priority_label}</span></td>\n'
    '  <td class="sla-cell">{sla}</td>\n'
    '  <td class="assignee-cell" title="{assignee_title}">{assignee}{team}</td>\n'
    '  <td class="age-cell" title="{created}">{age}</td>\n'
    "</tr>"
)
_UNREAD_DOT = mark_safe('<span class="unread-dot" title="Unread">●</span>')
_NOBODY = mark_safe('<span class="muted">—</span>')


def _from_query(context: Any) -> str:
    """`?from=<the queue's query string>`: the ticket page then knows the view, filters
    and sort it was opened from (its "next ticket"). Built once per page render."""
    cached = context.render_context.get("queue_from_query")
    if cached is None:
        request = context.get("request")
        query = request.GET.copy() if request is not None else None
        if query is not None:
            query.pop("cursor", None)
        cached = f"?{urlencode({'from': query.urlencode()})}" if query else ""
        context.render_context["queue_from_query"] = cached
    return cached


@register.simple_tag(takes_context=True)
def queue_row(context: Any, row: QueueRow, agent_root: str) -> str:
    """A row of tickets.workspace.selectors.queue_page as the queue's table row.

    Every value is escaped with html.escape, which is what django.utils.html.escape does
    without its lazy-string wrapper (a thousand calls a page), or is HTML built here.
    """
    t = row.ticket
    assignee = t.assignee
    created = localtime(t.created_at)
    unread = row.unread
    name = (assignee.get_full_name() or assignee.username) if assignee else ""
    preview = row.preview
    team_name = t.team.name if t.team else ""
    html = _ROW.format(
        unread_class=" unread" if unread else "",
        unread_dot=_UNREAD_DOT if unread else "",
        pk=int(t.pk),
        number=int(t.number or 0),
        url=_escape(f"{agent_root}tickets/{t.number}/{_from_query(context)}"),
        subject=_escape(t.subject),
        # Rows are one line, cut with an ellipsis: the tooltip holds the whole text.
        subject_title=_escape(f"{t.subject} — {preview}" if preview else t.subject),
        arrow="↩ " if row.outbound else "",
        preview=_escape(preview),
        tags="".join(f' <span class="tag">{_escape(tag.name)}</span>' for tag in t.tags.all()),
        customer=_escape(str(t.customer)),
        channel=channel_icon(t.channel),
        status=_escape(t.status),
        status_label=_escape(str(t.get_status_display())),
        priority=_escape(t.priority),
        priority_label=_escape(str(t.get_priority_display())),
        sla=sla_badge(row.sla, compact=True),
        assignee=_escape(name) if assignee else _NOBODY,
        assignee_title=_escape(" · ".join(part for part in (name, team_name) if part)),
        team=f' <span class="team muted">{_escape(team_name)}</span>' if team_name else "",
        created=_escape(created.isoformat()),
        age=_escape(timesince(created, depth=1)),
    )
    return mark_safe(html)  # noqa: S308 (each value above is escaped or built here)


@register.simple_tag
def reports_allowed(user: Any) -> bool:
    """Whether the workspace's "Reports" entry shows: today the SLA report's own check."""
    from tickets.sla.views import sla_report_allowed

    return sla_report_allowed(user)
