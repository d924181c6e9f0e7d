"""The outbound address guard for tenant-supplied URLs (custom provider ``url`` and ``authUrl``).

A URL must be https and its host must resolve only to public addresses: loopback, private,
link-local (which holds the cloud metadata address 169.254.169.254), shared, reserved and other
non-global ranges are refused. Hosts on the operator's allow-list (``host`` or ``host:port``) are
exempt from both rules; dev mode allow-lists its sandbox.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_SECONDS = 5.0
# Metadata services that are not in a non-global range everywhere (e.g. AWS's IPv6 endpoint is ULA anyway).
METADATA_ADDRESSES = frozenset({"169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"})


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT_SECONDS
    )
    return [str(info[4][0]) for info in infos]


def address_problem(address: str) -> str | None:
    """Why connecting to ``address`` is refused, or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if str(ip) in METADATA_ADDRESSES:
        return "is a cloud metadata address"
    if ip.is_loopback:
        return "is a loopback address"
    if ip.is_link_local:
        return "is a link-local address"
    if ip.is_private:
        return "is a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "is not a unicast public address"
    if not ip.is_global:
        return "is not a public address"
    return None


class AddressGuard:
    def __init__(self, allowed_hosts: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self._allowed = frozenset(h.strip().lower() for h in allowed_hosts if h.strip())
        self._resolve = resolver

    def allowed(self, host: str, port: int) -> bool:
        host = host.lower()
        return host in self._allowed or f"{host}:{port}" in self._allowed or f"[{host}]:{port}" in self._allowed

    async def problem(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "The URL is malformed."
        host = parts.hostname
        if not host or parts.scheme not in ("http", "https"):
            return "The URL must be an absolute https URL."
        if self.allowed(host, port):
            return None
        if parts.scheme != "https":
            return "The URL must use https."
        try:
            addresses = [host] if _is_ip(host) else await self._resolve(host, port)
        except (OSError, TimeoutError):
            return f"The host {host} could not be resolved, so it cannot be checked; use a resolvable public host."
        if not addresses:
            return f"The host {host} could not be resolved."
        for address in addresses:
            why = address_problem(address)
            if why is not None:
                return (
                    f"The host {host} resolves to {address}, which {why}; calls to such addresses are refused "
                    "unless the operator allow-lists the host (PHONE_DELIVERY_ALLOWED_PRIVATE_HOSTS)."
                )
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
