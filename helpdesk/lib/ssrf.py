"""Server-side request forgery guard: which addresses this server may fetch from or post
to on a user's or provider's say-so (SMS media links, outgoing webhooks)."""

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    """The URL points somewhere this server must not reach for someone else."""


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def url_vet(url: str, *, schemes: tuple[str, ...] = ("https",), allow_private: bool = False) -> str:
    """Refuse a URL that is not `schemes`, carries credentials, or whose host resolves to
    a loopback, private, link-local or otherwise internal address; returns the host.

    Every address the name resolves to must be public: a name with one public and one
    internal address is refused, since the connection may use either."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise UnsafeUrl(f"Only {' or '.join(schemes)} URLs are fetched, not {url[:100]!r}.")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeUrl(f"{url[:100]!r} has no host, or carries credentials.")
    if allow_private:
        return parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise UnsafeUrl(f"{parts.hostname!r} cannot be resolved: {exc}") from exc
    for info in infos:
        address = str(info[4][0])
        if not address_is_public(address):
            raise UnsafeUrl(f"{parts.hostname!r} resolves to an internal address ({address}).")
    return parts.hostname
