from enum import Enum

from helpdesk.errors import DomainError


class TicketErrorCode(Enum):
    NOT_AN_AGENT = "not_an_agent"
    INVALID_IDENTITY = "invalid_identity"
    IDENTITY_TAKEN = "identity_taken"
    IDENTITY_IN_USE = "identity_in_use"
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
    # The actor's role does not allow it: a 403 on the API (helpdesk.api), with the code
    # DRF's own permission refusals carry.
    NOT_ALLOWED = "permission_denied"
    ALREADY_ERASED = "already_erased"


class TicketError(DomainError):
    code: TicketErrorCode
