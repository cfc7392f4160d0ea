from enum import Enum

from helpdesk.errors import DomainError


class TicketErrorCode(Enum):
    NOT_AN_AGENT = "not_an_agent"
    INVALID_IDENTITY = "invalid_identity"
    IDENTITY_TAKEN = "identity_taken"
    INVALID_STATUS = "invalid_status"
    INVALID_PRIORITY = "invalid_priority"
    MERGE_SELF = "merge_self"
    MERGE_MERGED = "merge_merged"
    EMPTY_MESSAGE = "empty_message"
    NO_RECIPIENT = "no_recipient"
    INVALID_TAG = "invalid_tag"
    INVALID_MESSAGE = "invalid_message"
    INVALID_CHANNEL = "invalid_channel"
    INVALID_MACRO = "invalid_macro"
    NOT_FOUND = "not_found"
    INVALID_PREFERENCE = "invalid_preference"
    # The actor's role does not allow it: HTTP 403 on the API (helpdesk.api).
    PERMISSION_DENIED = "permission_denied"


class TicketError(DomainError):
    code: TicketErrorCode
