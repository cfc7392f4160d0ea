"""`Authorization: Bearer hd_live_…` for the API, and the scopes each view asks of a token."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from helpdesk.lib.net import client_ip
from tickets.integrations.models import ApiToken
from tickets.integrations.tokens import TokenError, api_token_check

# The attribute a token-authenticated user carries: the services record such writes with
# the `api` actor (tickets.services.actor_of).
TOKEN_ATTR = "api_token_id"  # noqa: S105 (an attribute name)


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the header as `Authorization: Bearer <token>`.", code="token_invalid"
            )
        try:
            token = api_token_check(parts[1].decode("latin-1"), ip=client_ip(request.META))
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code.value) from exc
        user = token.owner
        setattr(user, TOKEN_ATTR, token.pk)
        return user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tickets.integrations.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "hd_live_<id>_<secret>"}


def _required_scope(view: Any, method: str) -> str | None:
    scopes = getattr(view, "required_scopes", None) or {}
    if method in scopes:
        return str(scopes[method])
    if method in ("HEAD", "OPTIONS"):
        return scopes.get("GET")
    return None


class TokenScopes(BasePermission):
    """A token reaches a view only with the scope the view names for the method
    (`required_scopes = {"GET": "tickets:read", "POST": "tickets:write"}`). Session and
    Basic callers are agents acting in person: scopes do not apply to them."""

    def has_permission(self, request: Any, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        scope = _required_scope(view, request.method)
        if scope is None:
            raise exceptions.PermissionDenied(
                f"{request.method} here does not accept API tokens.", code="token_not_allowed"
            )
        if scope not in token.scopes:
            raise exceptions.PermissionDenied(
                f"The API token lacks the scope `{scope}`.", code="missing_scope"
            )
        return True
