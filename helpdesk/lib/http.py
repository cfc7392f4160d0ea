"""HTTP at the edges: reading request bodies without trusting their size, and posting to
a URL someone else gave us (outgoing webhooks) without trusting where it points."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from helpdesk.lib.ssrf import VettedUrl


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
