from enum import Enum

from helpdesk.errors import DomainError


class KbErrorCode(Enum):
    INVALID_STATUS = "invalid_status"
    EMPTY_TITLE = "empty_title"
    SLUG_TAKEN = "slug_taken"
    NOT_PUBLISHED = "not_published"
    INVALID_CURSOR = "invalid_cursor"


class KbError(DomainError):
    code: KbErrorCode
