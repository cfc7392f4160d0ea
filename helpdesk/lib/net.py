"""The client's address, as far as this deployment can know it.

X-Forwarded-For is whatever the client wrote, unless a proxy we run wrote it: the
header is read only when the direct peer is one of HELPDESK_TRUSTED_PROXIES, and then
from the right, past our own proxies, to the first address none of them is. Every rate
limit and log that names a client uses this one helper.
"""

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(meta: Mapping[str, str]) -> str:
    """The client's address from a request's META (REMOTE_ADDR, X-Forwarded-For)."""
    peer = meta.get("REMOTE_ADDR", "") or "unknown"
    networks = _networks(tuple(settings.HELPDESK_TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage where an address belongs: the proxy's own is all we know
    return hops[0] if hops else peer
