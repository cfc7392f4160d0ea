from enum import Enum

from helpdesk.errors import DomainError


class AutomationErrorCode(Enum):
    INVALID_RULE = "invalid_rule"


class RuleError(DomainError):
    """A condition or action that cannot run. `field` is where it is, in the rule's JSON
    ("conditions.all[0].operator"), so the admin, the API and tests can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(AutomationErrorCode.INVALID_RULE, f"{field}: {message}")
        self.field = field
        self.detail = message
