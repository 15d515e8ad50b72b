"""Client addresses: whose word the hub takes for where a request comes from.

``X-Forwarded-For`` and ``X-Real-IP`` are only text a client can write: believed from anyone, they let one
client pass for many (rotating the header past the login lockout) or for another (a forged ``127.0.0.1``
locking real users out, and written into the audit trail). The hub takes them only from the proxies listed in
``trusted_proxies`` (none by default), and then reads ``X-Forwarded-For`` from the right, skipping the
proxies' own hops: the first address not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from tornado.httputil import HTTPServerRequest

from hub.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.5", "192.168.0.0/16", "::1"]`` → networks; ConfigError names a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"trusted_proxies: {entry!r} is not an IP address or network") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An IP address (an IPv4-mapped IPv6 one as IPv4), or None for anything else."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


class TrustedProxies:
    """The ``trusted_proxies`` setting, parsed once; answers the one question of this module."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = parse_networks(entries)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, request: HTTPServerRequest) -> str:
        """The address of the client behind a request: the peer itself, unless the peer is a trusted proxy;
        then the nearest untrusted hop of ``X-Forwarded-For`` (or ``X-Real-IP`` when there is none). A
        malformed hop stops the walk at the last hop a trusted proxy vouched for."""
        peer = request.remote_ip or ""
        current = parse_address(peer)
        if not self.trusts(current):
            return peer
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop for hop in forwarded.split(",") if hop.strip()] or [request.headers.get("X-Real-IP", "")]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break
            current = address
            if not self.trusts(address):
                break
        return str(current)

    def client_scheme(self, request: HTTPServerRequest) -> str:
        """``http`` or ``https`` as the client used it: ``X-Forwarded-Proto`` from a trusted proxy, else the
        scheme of the connection itself."""
        if self.trusts(parse_address(request.remote_ip or "")):
            claimed = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
            if claimed in ("http", "https"):
                return claimed
        return request.protocol
