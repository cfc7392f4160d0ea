"""SLA breach notices through the outbox.

`sla_notice_enqueue` subscribes to SlaNoticeDue in the transaction that claims the
notice, so the Delivery rows commit with the claim: if the broker is down then, the
delivery relay sends them later; if the claim rolls back, nothing is written. Each row
has a dedup key per (record, recipient): asked twice, sent once.
"""

from typing import Any

from channels_app.models import DeliveryPurpose
from channels_app.notifications import Mail, NotificationSkipped, notification_enqueue
from tickets.domain_events import SlaNoticeDue
from tickets.links import agent_ticket_url
from tickets.models import SlaRecord, SlaRecordState


def _recipients(record: SlaRecord) -> list[str]:
    ticket, policy = record.ticket, record.policy
    if policy is None:
        return []
    recipients = []
    if policy.notify_assignee and ticket.assignee is not None and ticket.assignee.email:
        recipients.append(ticket.assignee.email)
    if policy.notify_team and ticket.team is not None and ticket.team.email:
        recipients.append(ticket.team.email)
    return list(dict.fromkeys(recipients))


def sla_notice_enqueue(event: SlaNoticeDue) -> None:
    record = (
        SlaRecord.objects.select_related("ticket__assignee", "ticket__team", "policy")
        .filter(pk=event.record_id)
        .first()
    )
    if record is None or record.state == SlaRecordState.CANCELLED:
        return
    for recipient in _recipients(record):
        notification_enqueue(
            purpose=DeliveryPurpose.SLA_BREACH,
            recipient=recipient,
            context={"record_id": record.pk, "recipient": recipient},
            dedup_key=f"sla-breach:{event.ticket_id}:{event.target}:{record.pk}:{recipient}",
        )


def sla_breach_render(context: dict[str, Any]) -> Mail:
    """The breach notice, written when the outbox sends it."""
    record = (
        SlaRecord.objects.select_related("ticket", "policy").filter(pk=context["record_id"]).first()
    )
    if record is None or record.policy is None or record.state == SlaRecordState.CANCELLED:
        raise NotificationSkipped("The SLA target is gone or was cancelled.")
    ticket, policy = record.ticket, record.policy
    due = record.due_at.strftime("%Y-%m-%d %H:%M UTC") if record.due_at else "unknown"
    return Mail(
        to=str(context["recipient"]),
        subject=f"SLA breached: {record.get_kind_display()} on {ticket.reference}",
        body=(
            f"The {record.get_kind_display().lower()} target of ticket {ticket.reference} "
            f"“{ticket.subject}” was due at {due} ({policy.name}).\n\n"
            f"Open it: {agent_ticket_url(ticket=ticket)}\n"
        ),
    )
