"""The outbound address guard for tenant-supplied URLs (custom provider ``url`` and ``authUrl``).

Two checks, at two moments:

- **At save** (``problem``), without the network: refuse what is certainly bad, so a gateway that
  only resolves in production can still be configured offline. Not http(s), a user name or password
  in the URL, a ``${variable}`` in the scheme, host or port, a URL the HTTP client cannot parse,
  ``localhost`` and ``*.localhost``, and IP literals in any spelling (dotted, decimal, hex, octal,
  short forms, IPv6, IPv4-mapped, 6to4, NAT64, Teredo) that land in a refused range. Plain http is
  refused too, except for allow-listed hosts.
- **At every connection** (``resolve``, used by the tenant HTTP client's connector through
  ``pinned_resolver.py``, and by its transport for an IP literal, which the connector would not
  resolve): one lookup, every address checked, and the connection goes only to the addresses that
  were checked (no second lookup, so DNS rebinding between check and connect cannot happen). A name
  that does not resolve is a ``HostNotFound``; a refused address a ``DestinationRefused``.

Refused: loopback, private, link-local (with the cloud metadata address 169.254.169.254), shared
(100.64/10), multicast, reserved and other non-global ranges, unique-local IPv6, and IPv4 addresses
embedded in IPv6 (mapped, 6to4, NAT64, Teredo) that are themselves refused. Hosts on the operator's
allow-list (``host`` or ``host:port``) are exempt from the address rules and may use plain http;
dev mode allow-lists its sandbox.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
AddressPolicy = Callable[[str], str | None]
RESOLVE_TIMEOUT_SECONDS = 5.0
# Metadata services that are not in a non-global range everywhere (e.g. AWS's IPv6 endpoint is ULA anyway).
METADATA_ADDRESSES = frozenset({"169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"})
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# The forms inet_aton accepts: one to four parts, each decimal, 0x-hex or 0-octal.
_LEGACY_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(OSError):
    """The host resolved to an address that calls may not go to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostNotFound(OSError):
    """The host name does not resolve (it does not exist, or has no address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver; a name that does not exist is ``HostNotFound``."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT_SECONDS
        )
    except socket.gaierror as exc:
        if exc.errno in _NOT_FOUND_ERRNOS:
            raise HostNotFound(f"The host {host} does not resolve (no such name).") from exc
        raise
    except UnicodeError as exc:  # the resolver's IDNA encoding refused the name
        raise HostNotFound(f"The host {host} is not a valid host name.") from exc
    return [str(info[4][0]) for info in infos]


_NOT_FOUND_ERRNOS = {
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY") if hasattr(socket, name)
}


def _legacy_part(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)  # ValueError for 8 or 9 in an octal part, which inet_aton refuses too
    return int(part)


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read the way inet_aton reads it (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
    ``127.1``), or None when it is not such a number."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_LEGACY_IPV4_PART.fullmatch(p) for p in parts):
        return None
    try:
        *leading, last = [_legacy_part(p) for p in parts]
    except ValueError:
        return None
    if any(v > 255 for v in leading) or last >= 256 ** (4 - len(leading)):
        return None
    number = 0
    for value in leading:
        number = number * 256 + value
    return ipaddress.IPv4Address(number * 256 ** (4 - len(leading)) + last)


def literal_address(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, in any spelling, or None for a name."""
    bare = host.strip("[]").rstrip(".")
    if ":" in bare:  # IPv6, perhaps with a zone ("fe80::1%eth0")
        bare = bare.split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return legacy_ipv4(bare)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(address: str) -> str | None:
    """Why connecting to ``address`` is refused, or None."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "is not an IP address"
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        why = address_problem(str(embedded))
        if why is not None:
            return f"embeds {embedded}, which {why}"
        if isinstance(ip, ipaddress.IPv6Address) and ip.teredo is None:
            return None  # a public IPv4 address reached through IPv6 (mapped, 6to4, NAT64)
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


def _refused(host: str, address: str, why: str) -> str:
    return (
        f"The host {host} {'is' if host == address else 'resolves to'} {address}, which {why}; calls to such "
        "addresses are refused unless the operator allow-lists the host (PHONE_DELIVERY_ALLOWED_PRIVATE_HOSTS)."
    )


class AddressGuard:
    def __init__(
        self,
        allowed_hosts: Iterable[str] = (),
        resolver: Resolver = system_resolver,
        policy: AddressPolicy = address_problem,
    ) -> None:
        self._allowed = frozenset(h.strip().lower() for h in allowed_hosts if h.strip())
        self._resolve = resolver
        self._policy = policy

    def allowed(self, host: str, port: int) -> bool:
        host = host.lower().strip("[]").rstrip(".")
        return host in self._allowed or f"{host}:{port}" in self._allowed or f"[{host}]:{port}" in self._allowed

    def problem(self, url: str) -> str | None:
        """Why ``url`` (a template: ``${variables}`` may stand in the path and query) is certainly bad,
        or None. Needs no network: a name is checked when a connection is made (``resolve``)."""
        if any(ch <= " " or ch == "\x7f" for ch in url):
            return "The URL must not contain spaces, line breaks or other control characters."
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return "The URL is malformed."
        if not host or parts.scheme not in ("http", "https"):
            return "The URL must be an absolute https URL."
        if "@" in parts.netloc:
            return "The URL must not contain a user name or password; use the authentication settings instead."
        if PLACEHOLDER.search(parts.netloc):
            return "Variables such as ${to} may appear in the URL's path and query only, not in its host or port."
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "The URL is malformed (its port is not a number from 0 to 65535)."
        if self.allowed(host, port):
            return None
        if parts.scheme != "https":
            return "The URL must use https."
        problem = self._name_problem(host, host)
        if problem is not None:
            return problem
        try:  # the host as the HTTP client will send it (IDNA mapping turns "127。0。0。1" into 127.0.0.1)
            sent = httpx.URL(PLACEHOLDER.sub("x", url))
            sent_host = sent.raw_host.decode("ascii")
            sent.host  # noqa: B018 - decoding the IDNA form back may fail too
            host.lower().rstrip(".").encode("idna")
        except (httpx.InvalidURL, ValueError):  # and the IDNA codecs' UnicodeError
            return "The URL is malformed (its host is not a valid host name)."
        return self._name_problem(host, sent_host)

    def _name_problem(self, host: str, name: str) -> str | None:
        """Why ``name`` (``host`` as written, or as it will be sent) is certainly refused."""
        bare = name.lower().rstrip(".")
        if bare == "localhost" or bare.endswith(".localhost"):
            return f"The host {host} is a loopback name; calls to it are refused."
        address = literal_address(name)
        if address is not None:
            why = self._policy(str(address))
            if why is not None:
                return _refused(host, str(address), why)
        return None

    async def resolve(self, host: str, port: int) -> list[str]:
        """Connect time: the addresses to connect to, from one lookup, every one of them checked.

        Raises ``HostNotFound`` when the name does not resolve and ``DestinationRefused`` when any
        address it resolves to is refused (an allow-listed host is resolved but not checked)."""
        literal = literal_address(host)
        addresses = [str(literal)] if literal is not None else await self._resolve(host, port)
        if not addresses:
            raise HostNotFound(f"The host {host} does not resolve (no address).")
        if not self.allowed(host, port):
            for address in addresses:
                why = self._policy(address)
                if why is not None:
                    raise DestinationRefused(_refused(host, address, why))
        return addresses
