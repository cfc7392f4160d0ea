"""Live updates for agent pages: each ticket change becomes a hint to the groups that show it.

Subscribers of the domain events, after commit (WorkspaceConfig.ready()). A hint is
`{kind, ticket_id}` sent to the ticket's page (`ticket.<id>`), the queue of its team
(`queue.team.<id>`, or `queue.noteam`) and its assignee's (`queue.agent.<id>`); a change
of team or assignee also tells the queue the ticket left. Pages fetch what changed over
HTTP, so a hint lost to a failing channel layer costs a resync: hint_send logs it, and the
dispatcher logs any other failure here without touching the write or the next subscriber.
"""

from collections.abc import Iterable

from tickets.domain_events import (
    CustomerErased,
    CustomerMerged,
    MessageAdded,
    Phase,
    TicketChanged,
    TicketCreated,
    TicketMerged,
    subscribe,
)
from tickets.events import agent_queue_group, hint_send, team_queue_group, ticket_group
from tickets.models import Ticket

# The hint's kind for a TicketChanged field.
_KIND_OF_FIELD = {"assignee": "assigned"}


def ticket_groups(
    ticket_id: int, *, team_ids: Iterable[int | None], assignee_ids: Iterable[int | None]
) -> list[str]:
    """The groups that show this ticket, each once, in a stable order."""
    groups = [ticket_group(ticket_id)]
    groups += [team_queue_group(team_id) for team_id in team_ids]
    groups += [agent_queue_group(user_id) for user_id in assignee_ids if user_id]
    return list(dict.fromkeys(groups))


def _hint(kind: str, ticket_id: int, groups: list[str]) -> None:
    hint_send(groups, {"kind": kind, "ticket_id": ticket_id})


def ticket_created_broadcast(event: TicketCreated) -> None:
    groups = ticket_groups(
        event.ticket_id, team_ids=[event.team_id], assignee_ids=[event.assignee_id]
    )
    _hint("created", event.ticket_id, groups)


def ticket_changed_broadcast(event: TicketChanged) -> None:
    teams: list[int | None] = [event.team_id]
    assignees: list[int | None] = [event.assignee_id]
    for change in event.changes:
        if change.field == "team":
            teams.append(change.before)
        elif change.field == "assignee":
            assignees.append(change.before)
    groups = ticket_groups(event.ticket_id, team_ids=teams, assignee_ids=assignees)
    for change in event.changes:
        _hint(_KIND_OF_FIELD.get(change.field, change.field), event.ticket_id, groups)


def message_added_broadcast(event: MessageAdded) -> None:
    if event.opens_ticket:
        return  # its TicketCreated hint already makes the pages fetch the new ticket
    groups = ticket_groups(
        event.ticket_id, team_ids=[event.team_id], assignee_ids=[event.assignee_id]
    )
    _hint("message", event.ticket_id, groups)


def _hint_read(kind: str, ticket_ids: Iterable[int]) -> None:
    # Merges and erasures are rare: the tickets' queues are read after the commit.
    for pk, team_id, assignee_id in Ticket.objects.filter(pk__in=list(ticket_ids)).values_list(
        "pk", "team_id", "assignee_id"
    ):
        _hint(kind, pk, ticket_groups(pk, team_ids=[team_id], assignee_ids=[assignee_id]))


def ticket_merged_broadcast(event: TicketMerged) -> None:
    _hint_read("merged", [event.target_ticket_id, event.source_ticket_id])


def customer_merged_broadcast(event: CustomerMerged) -> None:
    _hint_read("customer_merged", event.ticket_ids)


def customer_erased_broadcast(event: CustomerErased) -> None:
    _hint_read("customer_erased", event.ticket_ids)


def live_subscribe() -> None:
    subscribe(TicketCreated, ticket_created_broadcast, phase=Phase.ON_COMMIT)
    subscribe(TicketChanged, ticket_changed_broadcast, phase=Phase.ON_COMMIT)
    subscribe(MessageAdded, message_added_broadcast, phase=Phase.ON_COMMIT)
    subscribe(TicketMerged, ticket_merged_broadcast, phase=Phase.ON_COMMIT)
    subscribe(CustomerMerged, customer_merged_broadcast, phase=Phase.ON_COMMIT)
    subscribe(CustomerErased, customer_erased_broadcast, phase=Phase.ON_COMMIT)
