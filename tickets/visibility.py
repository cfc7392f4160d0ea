"""Which tickets an agent may see, and so which customers: one selector every surface
reads (docs/access.md).

An agent's scope is their own setting (AgentPreference.ticket_scope) or, when that is
empty, their role's: the permission tickets.view_all_tickets gives every ticket,
tickets.view_team_tickets the tickets of their teams (and those assigned to them),
neither only the tickets assigned to them. Admins and superusers see every ticket.
An agent sees a customer when they see one of the customer's tickets, or when the
customer has none yet; an agent who sees every ticket sees every customer.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from helpdesk.lib import fastsql
from helpdesk.roles import is_admin, is_agent
from tickets.models import AgentPreference, Customer, Team, Ticket, TicketScope

_CACHE = "_helpdesk_ticket_scope"


def _has_perm_q(codename: str) -> Exists:
    perms = Permission.objects.filter(content_type__app_label="tickets", codename=codename)
    return Exists(perms.filter(Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk"))))


def _scope_row(user_id: int) -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(pk=user_id)
        .annotate(
            own=Subquery(
                AgentPreference.objects.filter(user=OuterRef("pk")).values("ticket_scope")[:1]
            ),
            all_perm=_has_perm_q("view_all_tickets"),
            team_perm=_has_perm_q("view_team_tickets"),
        )
        .values_list("own", "all_perm", "team_perm")
    )


def ticket_scope(user: Any) -> str:
    """The user's scope (a TicketScope value, never ROLE); one query, then cached on the
    user object for the request. Every page and API read asks, so the query's SQL is
    compiled once per process (fastsql), not rebuilt from its subqueries each time."""
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    if not is_agent(user):
        scope = TicketScope.ASSIGNED.value
    elif is_admin(user):
        scope = TicketScope.ALL.value
    else:
        row = fastsql.values_first(get_user_model(), "ticket-scope", _scope_row, user.pk)
        own, all_perm, team_perm = row if row is not None else (None, False, False)
        if own:
            scope = own
        elif all_perm:
            scope = TicketScope.ALL.value
        elif team_perm:
            scope = TicketScope.TEAMS.value
        else:
            scope = TicketScope.ASSIGNED.value
    setattr(user, _CACHE, scope)
    return scope


def visibility_q(user: Any) -> Q | None:
    """The condition on Ticket rows the user may see; None when they see every ticket.
    Team membership is a subquery, so applying it adds no query."""
    scope = ticket_scope(user)
    if scope == TicketScope.ALL:
        return None
    mine = Q(assignee_id=user.pk) if user.pk is not None else Q(pk__in=[])
    if scope == TicketScope.TEAMS:
        teams = Team.members.through.objects.filter(user_id=user.pk).values("team_id")
        return Q(team_id__in=Subquery(teams)) | mine
    return mine


def tickets_visible_to(user: Any) -> QuerySet[Ticket]:
    """Every ticket the user may see (none for a user who is not an agent)."""
    if not is_agent(user):
        return Ticket.objects.none()
    condition = visibility_q(user)
    return Ticket.objects.all() if condition is None else Ticket.objects.filter(condition)


def ticket_visible_or_none(user: Any, number: int) -> Ticket | None:
    return tickets_visible_to(user).filter(number=number).first()


def ticket_id_visible(user: Any, ticket_id: int) -> bool:
    return tickets_visible_to(user).filter(pk=ticket_id).exists()


def team_queue_visible(user: Any, team_id: int | None) -> bool:
    """Whether the user may watch a team's queue (None: tickets of no team): every queue
    for an agent who sees every ticket, their own teams' for a team-scoped agent, none
    for an agent who sees only what is assigned to them (their own queue is theirs)."""
    if not is_agent(user):
        return False
    scope = ticket_scope(user)
    if scope == TicketScope.ALL:
        return team_id is None or Team.objects.filter(pk=team_id).exists()
    if scope == TicketScope.TEAMS and team_id is not None:
        return Team.members.through.objects.filter(user_id=user.pk, team_id=team_id).exists()
    return False


def customers_visible_to(user: Any) -> QuerySet[Customer]:
    """The customers the user may see: those with a ticket the user may see, and those
    with no ticket at all (nobody's yet, so every agent may look them up). None for a user
    who is not an agent. One query when applied: the conditions are subqueries."""
    if not is_agent(user):
        return Customer.objects.none()
    condition = visibility_q(user)
    if condition is None:
        return Customer.objects.all()
    tickets = Ticket.objects.filter(customer_id=OuterRef("pk"))
    return Customer.objects.filter(Exists(tickets.filter(condition)) | ~Exists(tickets))


def customer_visible_or_none(user: Any, customer_id: int) -> Customer | None:
    return customers_visible_to(user).filter(pk=customer_id).first()
