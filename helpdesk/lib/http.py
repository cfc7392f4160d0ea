"""HTTP at the edges: reading request bodies without trusting their size, and posting to
a URL someone else gave us (outgoing webhooks) without trusting where it points."""

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from helpdesk.lib.ssrf import VettedUrl


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is over the {limit / 1_048_576:.3g} MB limit.")
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


# Where providers and our own processes post to us unauthenticated by a session.
HOOK_PATH_PREFIXES = ("/hooks/", "/internal/")


class HookBodyLimitMiddleware:
    """Bounded bodies on every webhook: a declared Content-Length over
    HELPDESK_INBOUND_MAX_BYTES is refused with 413 before the view (or anything else)
    reads a byte, and a form body over Django's in-memory limit (DATA_UPLOAD_MAX_MEMORY_SIZE,
    checked against what actually arrived when no length or a false one was declared) is a
    413 too, not the generic 400. Nothing is stored either way; the sender is told why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(HOOK_PATH_PREFIXES):
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            limit = settings.HELPDESK_INBOUND_MAX_BYTES
            if declared > limit:
                return _too_large(BodyTooLarge(limit))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig) and request.path.startswith(HOOK_PATH_PREFIXES):
            return _too_large(BodyTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0))
        return None


def _too_large(exc: BodyTooLarge) -> HttpResponse:
    return JsonResponse({"error": f"{exc} Nothing was stored; send less."}, status=413)


@dataclass(frozen=True)
class PostAnswer:
    status: int
    body: bytes  # at most the cap given to post_pinned
    location: str  # a redirect's target, never followed


class PostTimeout(OSError):
    """The receiver took longer than the deadline to answer."""


def post_pinned(
    target: VettedUrl,
    *,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
    max_answer_bytes: int,
) -> PostAnswer:
    """POST `body` to a URL checked by helpdesk.lib.ssrf.url_resolve, connecting to the
    addresses it checked (TLS still verifies the certificate for the host name).

    Follows no redirect; reads at most `max_answer_bytes` of the answer; `read_timeout`
    bounds the whole answer, not each read. Raises OSError (PostTimeout included) or
    http.client.HTTPException when there is no answer to report."""
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(
            target.host, target.port, timeout=connect_timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=connect_timeout)
    addresses = list(target.addresses)

    def connect_checked(
        address: tuple[str, int], timeout: float, source: Any = None
    ) -> socket.socket:
        # http.client resolves the host again here: connect to a checked address instead.
        last: OSError = OSError(f"{target.host} has no address")
        for checked in addresses:
            try:
                return socket.create_connection((checked, address[1]), timeout, source)
            except OSError as exc:
                last = exc
        raise last

    conn._create_connection = connect_checked  # type: ignore[attr-defined]
    try:
        conn.connect()
        deadline = time.monotonic() + read_timeout
        if conn.sock is not None:
            conn.sock.settimeout(read_timeout)
        conn.request("POST", target.path, body=body, headers=headers)
        answer = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size < max_answer_bytes:
            if time.monotonic() > deadline:
                raise PostTimeout(f"no complete answer within {read_timeout:g} s")
            chunk = answer.read1(min(65536, max_answer_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return PostAnswer(
            status=answer.status,
            body=b"".join(chunks),
            location=answer.getheader("Location", "") or "",
        )
    except TimeoutError as exc:
        raise PostTimeout(f"no answer within {read_timeout:g} s") from exc
    finally:
        conn.close()
