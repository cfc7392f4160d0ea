"""Server-side request forgery guard: which addresses this server may fetch from or post
to on a user's or provider's say-so (SMS media links, outgoing webhooks)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit


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


@dataclass(frozen=True)
class VettedUrl:
    """A URL whose host was resolved and checked: connect to `addresses`, never resolve
    the name again, or a second answer (DNS rebinding) could point somewhere else."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, what goes on the request line
    addresses: tuple[str, ...]


def _split(url: str, schemes: tuple[str, ...]) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise UnsafeUrl(f"Only {' or '.join(schemes)} URLs are fetched, not {url[:100]!r}.")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeUrl(f"{url[:100]!r} has no host, or carries credentials.")
    return parts


def url_resolve(
    url: str, *, schemes: tuple[str, ...] = ("https",), allow_private: bool = False
) -> VettedUrl:
    """Check `url` as url_vet does and return the addresses its host resolved to, for the
    caller to connect to. With `allow_private` internal addresses are kept too."""
    parts = _split(url, schemes)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise UnsafeUrl(f"{host!r} cannot be resolved: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if not allow_private and not address_is_public(address):
            raise UnsafeUrl(f"{host!r} resolves to an internal address ({address}).")
        if address not in addresses:
            addresses.append(address)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return VettedUrl(parts.scheme, host, port, path, tuple(addresses))


def url_vet(url: str, *, schemes: tuple[str, ...] = ("https",), allow_private: bool = False) -> str:
    """Refuse a URL that is not `schemes`, carries credentials, or whose host resolves to
    a loopback, private, link-local or otherwise internal address; returns the host.

    Every address the name resolves to must be public: a name with one public and one
    internal address is refused, since the connection may use either."""
    if allow_private:
        return _split(url, schemes).hostname or ""
    return url_resolve(url, schemes=schemes).host
