"""Automatic assignment within a team: round-robin or least-loaded, among the team's
agents who are available (their own toggle) and online (a workspace socket open), below
their capacity. A ticket nobody can take waits in the team's queue and is assigned, in
arrival order, when an agent becomes available.

Picks in one team are serialized by a lock on the team's row, so two tickets arriving
at once never both go to the agent whose turn it was."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from channels_app.chat.presence import agents_online
from helpdesk.roles import AGENT_GROUPS
from tickets.automation.models import AgentAvailability, AssignmentMethod, QueuedAssignment
from tickets.models import ACTIVE_STATUSES, Channel, Status, Team, Ticket
from tickets.services import event_record, ticket_assign

AUTOMATION_EVENT = "automation"
CHAT_WORKING = (Status.NEW, Status.OPEN)


@dataclass(frozen=True)
class Candidate:
    user_id: int
    open_tickets: int
    open_chats: int
    seq: int


def _team_agents(team_id: int) -> list[Any]:
    users = get_user_model().objects.filter(teams=team_id, is_active=True)
    return list(users.filter(Q(is_superuser=True) | Q(groups__name__in=AGENT_GROUPS)).distinct())


def candidates(*, team_id: int, chat: bool) -> list[Candidate]:
    """The team's agents who may take one more ticket now, with their load."""
    agents = _team_agents(team_id)
    if not agents:
        return []
    ids = [agent.pk for agent in agents]
    settings_of = {a.user_id: a for a in AgentAvailability.objects.filter(user_id__in=ids)}
    ids = [i for i in ids if settings_of.get(i) is None or settings_of[i].available]
    ids = sorted(agents_online(ids))
    if not ids:
        return []
    loads = (
        Ticket.objects.filter(assignee_id__in=ids, status__in=ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(
            n=Count("id"),
            chats=Count("id", filter=Q(channel=Channel.CHAT, status__in=CHAT_WORKING)),
        )
    )
    load = {row["assignee_id"]: (row["n"], row["chats"]) for row in loads}
    found = []
    for user_id in ids:
        n, chats = load.get(user_id, (0, 0))
        prefs = settings_of.get(user_id)
        if prefs is not None:
            if prefs.max_open_tickets is not None and n >= prefs.max_open_tickets:
                continue
            if (
                chat
                and prefs.max_concurrent_chats is not None
                and chats >= prefs.max_concurrent_chats
            ):
                continue
        found.append(Candidate(user_id, n, chats, prefs.assigned_seq if prefs else 0))
    return found


def _pick(found: list[Candidate], method: str) -> Candidate:
    if method == AssignmentMethod.LEAST_LOADED:
        return min(found, key=lambda c: (c.open_tickets, c.seq, c.user_id))
    return min(found, key=lambda c: (c.seq, c.user_id))


def _mark_assigned(user_id: int) -> None:
    top = AgentAvailability.objects.aggregate(top=Max("assigned_seq"))["top"] or 0
    updated = AgentAvailability.objects.filter(user_id=user_id).update(assigned_seq=top + 1)
    if not updated:
        AgentAvailability.objects.create(user_id=user_id, assigned_seq=top + 1)


def _describe(method: str) -> str:
    return AssignmentMethod(method).label.lower()


@transaction.atomic
def ticket_auto_assign(*, ticket: Ticket, method: str, rule_title: str) -> str:
    """Assign `ticket` within its team by `method`, or queue it. Returns what happened,
    worded for the rule's timeline entry."""
    if ticket.team_id is None:
        return "left unassigned (the ticket has no team)"
    team = Team.objects.select_for_update().get(pk=ticket.team_id)
    found = candidates(team_id=team.pk, chat=ticket.channel == Channel.CHAT)
    if not found:
        QueuedAssignment.objects.get_or_create(
            ticket=ticket, defaults={"team": team, "method": method, "rule_title": rule_title}
        )
        return f"queued for {team.name} (nobody available)"
    chosen = _pick(found, method)
    agent = _assign(ticket=ticket, user_id=chosen.user_id, method=method, rule_title=rule_title)
    QueuedAssignment.objects.filter(ticket=ticket).delete()
    return f"assignee {agent.get_username()} ({_describe(method)})"


def _assign(*, ticket: Ticket, user_id: int, method: str, rule_title: str) -> Any:
    agent = get_user_model().objects.get(pk=user_id)
    ticket_assign(ticket=ticket, agent=agent, actor=None)
    _mark_assigned(user_id)
    name = (agent.get_full_name() or agent.get_username()).strip()
    event_record(
        ticket=ticket,
        actor=None,
        kind=AUTOMATION_EVENT,
        data={
            "rule": rule_title,
            "text": f"Assigned to {name} by {_describe(method)} in {ticket.team}"
            f" (rule “{rule_title}”)",
        },
    )
    return agent


def assignment_queue_drain(*, team_ids: list[int] | None = None, limit: int = 500) -> int:
    """Assign waiting tickets, oldest first, while their teams have someone available.
    Safe to run from two processes: rows are claimed with SKIP LOCKED."""
    assigned = 0
    with transaction.atomic():
        queued = QueuedAssignment.objects.select_related("ticket").order_by("created_at", "id")
        if team_ids is not None:
            queued = queued.filter(team_id__in=team_ids)
        full: set[int] = set()
        for row in queued.select_for_update(skip_locked=True, of=("self",))[:limit]:
            ticket = Ticket.objects.select_for_update().get(pk=row.ticket_id)
            if (
                ticket.assignee_id is not None
                or ticket.team_id != row.team_id
                or ticket.status not in ACTIVE_STATUSES
            ):
                row.delete()  # taken by hand, moved, or finished meanwhile
                continue
            if row.team_id in full:
                continue  # keep arrival order: nobody in this team can take an older one
            team = Team.objects.select_for_update().get(pk=row.team_id)
            found = candidates(team_id=team.pk, chat=ticket.channel == Channel.CHAT)
            if not found:
                full.add(row.team_id)
                continue
            chosen = _pick(found, row.method)
            _assign(
                ticket=ticket, user_id=chosen.user_id, method=row.method, rule_title=row.rule_title
            )
            row.delete()
            assigned += 1
    return assigned


def agent_availability_set(
    *,
    user: Any,
    available: bool | None = None,
    max_open_tickets: int | None = None,
    max_concurrent_chats: int | None = None,
) -> AgentAvailability:
    """The agent's available / away toggle (and capacity). Becoming available assigns
    their teams' waiting tickets at once."""
    prefs, _ = AgentAvailability.objects.get_or_create(user=user)
    if available is not None:
        prefs.available = available
    if max_open_tickets is not None:
        prefs.max_open_tickets = max_open_tickets or None
    if max_concurrent_chats is not None:
        prefs.max_concurrent_chats = max_concurrent_chats or None
    prefs.updated_at = timezone.now()
    prefs.save()
    if prefs.available:
        team_ids = list(user.teams.values_list("pk", flat=True))
        if team_ids:
            assignment_queue_drain(team_ids=team_ids)
    return prefs


@dataclass(frozen=True)
class Availability:
    available: bool
    max_open_tickets: int | None
    max_concurrent_chats: int | None
    waiting: int  # tickets waiting in the agent's teams


def agent_availability_get(*, user: Any) -> Availability:
    prefs = AgentAvailability.objects.filter(user=user).first()
    team_ids = list(user.teams.values_list("pk", flat=True))
    return Availability(
        available=prefs.available if prefs else True,
        max_open_tickets=prefs.max_open_tickets if prefs else None,
        max_concurrent_chats=prefs.max_concurrent_chats if prefs else None,
        waiting=QueuedAssignment.objects.filter(team_id__in=team_ids).count(),
    )


def assignment_queue_nudge(*, user_id: int) -> int:
    """An agent came online (opened the workspace): assign their teams' waiting tickets.
    One indexed read when nothing waits, which is the common case."""
    team_ids = list(Team.objects.filter(members=user_id).values_list("pk", flat=True))
    if not team_ids or not QueuedAssignment.objects.filter(team_id__in=team_ids).exists():
        return 0
    return assignment_queue_drain(team_ids=team_ids)
