"""What every API view shares: its scope per method (checked by
tickets.integrations.auth.TokenScopes and written into the schema), the error answers
the schema lists, and the Django permissions a write needs of the acting agent."""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from tickets.api.guards import GuardedView
from tickets.api.serializers import ErrorOutput

_ERRORS = {
    "400": "Invalid input or a refused change: `error.fields` names the fields.",
    "401": "No, a wrong, revoked or expired token (`token_invalid`, `token_revoked` …).",
    "403": "The token lacks the scope (`missing_scope`, the message names it) or the "
    "agent lacks the permission.",
    "404": "Nothing there, or nothing you may see.",
    "429": "Over the rate limit (`rate_limited`): retry after `Retry-After` seconds.",
}


class ScopedAutoSchema(AutoSchema):
    """The scope a token needs, from the view's `required_scopes`, in every operation's
    description and as `x-required-scope`; the shared error shape on every operation."""

    def _scope(self) -> str | None:
        scopes = getattr(self.view, "required_scopes", None) or {}
        return scopes.get(self.method) or (scopes.get("GET") if self.method == "HEAD" else None)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        # After extend_schema's description has been applied, so it names the scope too.
        operation = super().get_operation(*args, **kwargs)
        scope = self._scope()
        if operation is not None and scope is not None:
            text = f"{operation.get('description', '')}\n\n**Token scope:** `{scope}`"
            operation["description"] = text.strip()
            operation["x-required-scope"] = scope
        return operation

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        error = self._get_response_for_code(ErrorOutput, "400", direction=direction)
        for code, description in _ERRORS.items():
            if code not in responses:
                responses[code] = {**error, "description": description}
        return responses


class ApiView(GuardedView):
    """Base of the API's views: `required_scopes = {"GET": "tickets:read", ...}`; rate
    limited, and idempotent on POST (tickets.api.guards)."""

    schema = ScopedAutoSchema()
    required_scopes: dict[str, str] = {}


def require_perm(request: Request, perm: str, what: str) -> None:
    """The acting agent (a token's owner, or the agent in person) needs `perm` for `what`."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(
            f"Your role does not allow {what}. Ask an admin for the permission.",
            code="permission_denied",
        )
