"""Reading request bodies without trusting their size."""

from django.http import HttpRequest


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is over the {limit / 1_048_576:.0f} MB limit.")
        self.limit = limit


def body_read_bounded(request: HttpRequest, *, limit: int) -> bytes:
    """The request body, at most `limit` bytes: refused by the declared Content-Length
    before anything is read, and by what arrives when no length (or a false one) was
    declared. Never buffers more than limit + 1 bytes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge(limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return body
