"""Domain refusals whose HTTP status is not the default 400 (helpdesk.api.exception_handler):
the view names the status per code, the answer keeps the one error shape."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rest_framework import status
from rest_framework.exceptions import APIException

from tickets.errors import TicketError, TicketErrorCode


class ApiError(APIException):
    """`{"error": {"code": code, "message": message}}` with `status_code`."""

    def __init__(self, *, status_code: int, code: str, message: str) -> None:
        self.status_code = status_code
        super().__init__(detail=message, code=code)


@contextmanager
def domain_statuses(statuses: Mapping[TicketErrorCode, int]) -> Iterator[None]:
    """Re-raise a TicketError whose code is in `statuses` with that status."""
    try:
        yield
    except TicketError as exc:
        if exc.code in statuses:
            raise ApiError(
                status_code=statuses[exc.code], code=exc.code.value, message=exc.message
            ) from exc
        raise


# A change that the record's state refuses (merged, erased) rather than the input.
CONFLICTS = {
    TicketErrorCode.MERGE_MERGED: status.HTTP_409_CONFLICT,
    TicketErrorCode.ALREADY_ERASED: status.HTTP_409_CONFLICT,
}
