"""The one customer interaction history: who writes, what they wrote, what happened.

Data and invariants only: every write goes through tickets.services. One module per
concern; every name is importable from `tickets.models` (app label `tickets`, tables
unchanged), and migrations refer to the callables here by that path.
"""

from tickets.models.agent import AfterSend, AgentPreference, Macro, TicketScope
from tickets.models.choices import (
    ACTIVE_STATUSES,
    PRIORITY_RANK,
    REOPENABLE_STATUSES,
    Channel,
    Direction,
    IdentityKind,
    Priority,
    Status,
    priority_rank,
)
from tickets.models.customer import ContactIdentity, Customer, Organization
from tickets.models.message import Attachment, Message, attachment_upload_to
from tickets.models.sla import (
    OPEN_SLA_STATES,
    BusinessHours,
    BusinessInterval,
    Holiday,
    SlaPolicy,
    SlaRecord,
    SlaRecordState,
    SlaTarget,
    SlaTargetKind,
    Weekday,
    _validate_timezone,
)
from tickets.models.team import Tag, Team
from tickets.models.ticket import (
    QUEUE_INCLUDE,
    WORKING_INCLUDE,
    EventKind,
    SatisfactionRating,
    Ticket,
    TicketEvent,
    TicketRead,
    _reply_token,
)

__all__ = [
    "ACTIVE_STATUSES",
    "OPEN_SLA_STATES",
    "PRIORITY_RANK",
    "QUEUE_INCLUDE",
    "REOPENABLE_STATUSES",
    "WORKING_INCLUDE",
    "AfterSend",
    "AgentPreference",
    "Attachment",
    "BusinessHours",
    "BusinessInterval",
    "Channel",
    "ContactIdentity",
    "Customer",
    "Direction",
    "EventKind",
    "Holiday",
    "IdentityKind",
    "Macro",
    "Message",
    "Organization",
    "Priority",
    "SatisfactionRating",
    "SlaPolicy",
    "SlaRecord",
    "SlaRecordState",
    "SlaTarget",
    "SlaTargetKind",
    "Status",
    "Tag",
    "Team",
    "Ticket",
    "TicketEvent",
    "TicketRead",
    "TicketScope",
    "Weekday",
    "_reply_token",
    "_validate_timezone",
    "attachment_upload_to",
    "priority_rank",
]
