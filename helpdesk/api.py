"""One shape for every API error: {"error": {"code": ..., "message": ..., "fields": {...}}}."""

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from helpdesk.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        # A rule the actor's role sets is a 403, like DRF's own permission refusals.
        refused = exc.code.value == "permission_denied"
        return Response(
            {"error": {"code": exc.code.value, "message": exc.message}},
            status=status.HTTP_403_FORBIDDEN if refused else status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        body = {
            "code": getattr(detail["detail"], "code", "error"),
            "message": str(detail["detail"]),
        }
    else:
        body = {"code": "invalid", "message": "Some fields are not valid.", "fields": detail}
    response.data = {"error": body}
    return response
