"""What a breach does to its ticket: the policy's priority raise and team hand-over.

A subscriber of SlaBreached in the timer's transaction (TicketsConfig.ready()): the
escalation commits with the breach mark or not at all, so a tick that fails half way
never leaves a breach without its escalation, nor escalates a breach it did not record.
"""

from tickets.domain_events import SlaBreached
from tickets.models import PRIORITY_RANK, Priority, SlaRecord, Team, Ticket
from tickets.services import ticket_set_priority, ticket_set_team

_ORDER = sorted(Priority.values, key=lambda p: PRIORITY_RANK[Priority(p)])


def sla_escalate_on_breach(event: SlaBreached) -> None:
    """Raise the priority one step and hand the ticket to the escalation team, as the
    breached clock's policy asks; once per ticket when several of its clocks breach in
    the same tick (the first of them, by id, acts)."""
    if not (event.raise_priority or event.escalate_to_team_id):
        return
    earlier = SlaRecord.objects.filter(
        ticket_id=event.ticket_id, breached_at=event.at, pk__lt=event.record_id
    )
    if event.record_id is not None and earlier.exists():
        return
    ticket = Ticket.objects.get(pk=event.ticket_id)  # locked by the tick's batch
    if event.raise_priority and ticket.priority != Priority.URGENT:
        higher = _ORDER[_ORDER.index(ticket.priority) + 1]
        ticket_set_priority(ticket=ticket, priority=higher, actor=None)
    if event.escalate_to_team_id and ticket.team_id != event.escalate_to_team_id:
        team = Team.objects.filter(pk=event.escalate_to_team_id).first()
        if team is not None:  # deleted since: the policy's team went with it
            ticket_set_team(ticket=ticket, team=team, actor=None)
