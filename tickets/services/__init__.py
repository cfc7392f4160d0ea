"""Every write to the interaction history: one function per use case, transactional.

Services take keyword-only arguments, raise TicketError for broken rules and publish
domain events (tickets.domain_events) for what changed; whatever reacts subscribes.
One module per concern; every name is importable from `tickets.services`.
"""

from tickets.services.base import _require_agent, actor_of, event_record, ticket_changed
from tickets.services.customers import customer_update, identity_add, identity_resolve
from tickets.services.merge import customer_merge, ticket_merge, ticket_resolve_merged
from tickets.services.messages import (
    NewFile,
    attachment_store,
    content_type_clean,
    message_reply,
    new_rfc_message_id,
    note_add,
    reply_channel_default,
    reply_recipient,
)
from tickets.services.tickets import (
    satisfaction_delay,
    ticket_assign,
    ticket_create,
    ticket_followers_add,
    ticket_followers_remove,
    ticket_set_priority,
    ticket_set_status,
    ticket_set_subject,
    ticket_set_team,
    ticket_tags_change,
)

__all__ = [
    "NewFile",
    "_require_agent",
    "actor_of",
    "attachment_store",
    "content_type_clean",
    "customer_merge",
    "customer_update",
    "event_record",
    "identity_add",
    "identity_resolve",
    "message_reply",
    "new_rfc_message_id",
    "note_add",
    "reply_channel_default",
    "reply_recipient",
    "satisfaction_delay",
    "ticket_assign",
    "ticket_changed",
    "ticket_create",
    "ticket_followers_add",
    "ticket_followers_remove",
    "ticket_merge",
    "ticket_resolve_merged",
    "ticket_set_priority",
    "ticket_set_status",
    "ticket_set_subject",
    "ticket_set_team",
    "ticket_tags_change",
]
