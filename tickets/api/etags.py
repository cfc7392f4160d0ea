"""ETags of tickets and the If-Match check that refuses a lost update (412)."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from rest_framework import status

from tickets.api.errors import ApiError


def ticket_etag(body: Mapping[str, Any]) -> str:
    """A strong ETag of a ticket's API fields: any change to what the API shows of it (by
    anyone, through any surface) changes it."""
    text = json.dumps(body, sort_keys=True, default=str)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def etag_check(if_match: str, current: str) -> None:
    """412 unless `If-Match` names `current` (or is `*`); a weak `W/` form compares too."""
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in wanted or current in wanted:
        return
    raise ApiError(
        status_code=status.HTTP_412_PRECONDITION_FAILED,
        code="precondition_failed",
        message="The ticket changed since you read it (its ETag is not the one in "
        "If-Match). Read it again, then send your change.",
    )
