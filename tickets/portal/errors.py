from enum import Enum

from helpdesk.errors import DomainError


class PortalErrorCode(Enum):
    LINK_EXPIRED = "link_expired"
    LINK_INVALID = "link_invalid"
    LINK_USED = "link_used"
    RATE_LIMITED = "rate_limited"
    NOT_ALLOWED = "not_allowed"
    RATING_CLOSED = "rating_closed"
    INVALID_SCORE = "invalid_score"
    NOT_SOLVED = "not_solved"


class PortalError(DomainError):
    code: PortalErrorCode
