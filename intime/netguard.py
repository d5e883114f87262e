"""Where the app may connect on someone else's word (SSRF): a URL given by a workflow's
webhook step or by an inbound email's raw-message link must reach a public address.

``TargetGuard.resolve`` parses an http(s) URL, resolves its host and refuses it when any
address it resolves to is multicast, unspecified, loopback, link-local, private or
otherwise not global (an IPv4 address inside an IPv6 one counts as itself), unless an
operator allow-listed it (``INTIME_WEBHOOK_ALLOW``: CIDRs, or exact host names whose
every address is fine). The caller then connects to exactly the addresses that were
checked (``Target.url_for``, with the original ``Host`` and, for https, the original
name for SNI and certificate verification): no second lookup a rebinding DNS server
could answer differently. Used by worker/webhooks.py and web/inbound.py; no I/O but the
lookup.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

_HOSTNAME = re.compile(r"[A-Za-z0-9._-]+")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
# Checked in this order: loopback and link-local addresses are private too.
_NOT_PUBLIC = (
    ("is_multicast", "a multicast address"),
    ("is_unspecified", "an unspecified address"),
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_private", "a private address"),
)


class TargetRefused(Exception):
    """The URL may not be called: never retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetUnresolved(Exception):
    """The host name did not resolve (maybe only for now)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``ip`` (then the other ``addresses``), say ``host``."""

    scheme: str
    host: str  # ASCII, lower case, without brackets
    port: int
    path: str  # path and query, at least "/"
    addresses: tuple[str, ...]  # every checked address, in the order to try them

    @property
    def ip(self) -> str:
        return self.addresses[0]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"

    def url_for(self, address: str) -> str:
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


class TargetGuard:
    """Refuses URLs that reach a non-public address unless allow-listed.

    ``allow`` holds CIDRs (``127.0.0.0/8``, ``::1/128``; a bare address is one host)
    and exact host names (``hooks.internal``: any address it resolves to is fine).
    """

    def __init__(self, allow: Sequence[str] = ()) -> None:
        networks: list[IPNetwork] = []
        hostnames: set[str] = set()
        for entry in allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                name = entry.lower().rstrip(".")
                if "/" in entry or not _HOSTNAME.fullmatch(name):
                    raise ValueError(
                        f"webhook allow-list entry {entry!r} is neither a CIDR nor a host name"
                    ) from None
                hostnames.add(name)
        self.networks: tuple[IPNetwork, ...] = tuple(networks)
        self.hostnames = frozenset(hostnames)

    async def resolve(self, url: str) -> Target:
        scheme, host, port, path = _parse(url)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise TargetUnresolved(f"cannot resolve {host}: {exc}") from exc
        addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise TargetUnresolved(f"cannot resolve {host}: no addresses")
        if host.rstrip(".") not in self.hostnames:
            for address in addresses:
                self._check(address)
        return Target(scheme, host, port, path, addresses)

    def _check(self, address: str) -> None:
        ip = ipaddress.ip_address(address)
        embedded = _embedded_ipv4(ip)
        if any(a in net for net in self.networks for a in (ip, embedded) if a is not None):
            return
        reason = _not_public(ip)
        if reason is not None:
            raise TargetRefused(f"{address} is {reason}")


def _parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path-and-query) of an http(s) URL, or ``TargetRefused``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"invalid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise TargetRefused(f"only http and https URLs are allowed, not {scheme or 'none'}")
    if "@" in parts.netloc:
        raise TargetRefused("credentials in the URL are not allowed")
    host = parts.hostname or ""
    if not host:
        raise TargetRefused("the URL has no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise TargetRefused(f"invalid host name: {exc}") from exc
    if not (_HOSTNAME.fullmatch(host) or _is_ip(host)):
        raise TargetRefused(f"invalid host name {host!r}")
    if port == 0:
        raise TargetRefused("port 0 is not allowed")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64, IPv4-compatible)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _not_public(ip: IPAddress) -> str | None:
    """Why ``ip`` (or the IPv4 address inside it) is no place to send to, or None."""
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)):
        reason = _not_public(embedded)
        if reason is not None or ip.ipv4_mapped is not None or ip in _NAT64:
            return reason  # else 6to4 or IPv4-compatible: the IPv6 address counts too
    for attribute, reason in _NOT_PUBLIC:
        if getattr(ip, attribute):
            return reason
    if not ip.is_global or ip.is_reserved:
        return "not a public address"
    return None


def parse_allow(value: str) -> tuple[str, ...]:
    """``INTIME_WEBHOOK_ALLOW``: CIDRs and host names, comma- or space-separated."""
    return tuple(part for part in re.split(r"[\s,]+", value) if part)
