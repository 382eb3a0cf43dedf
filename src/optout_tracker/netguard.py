"""Where a webhook may be sent: public `https` receivers, unless the operator allows private
ones (OPTOUT_WEBHOOK_ALLOW_PRIVATE), so that a subscription cannot make the worker reach the
server's own network (SSRF).

Checked when a subscription is saved and again before every delivery. At delivery the name is
resolved once, every address it has is checked, and the worker connects to the address it
checked, so a name cannot resolve to a public address for the check and to an internal one
for the connection (DNS rebinding).
"""

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

ALLOW_HINT = "OPTOUT_WEBHOOK_ALLOW_PRIVATE=true allows private receivers"
# Internal whatever DNS answers: RFC 6761 reserves localhost; clouds name their metadata.
INTERNAL_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
# Metadata services, some on addresses that look public (Azure's, Alibaba's).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(ValueError):
    """A destination the guard refuses; the message says why, naming the address."""


class Unresolved(Exception):
    """A name the resolver found no address for, now."""


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL rewritten to the checked address, with what keeps the
    receiver's name on the wire (the Host header and, for https, the TLS server name)."""

    url: httpx2.URL
    host_header: str
    extensions: dict[str, Any]
    public: bool  # False: reached only because the operator allows private receivers


def kind_of(address: IPAddress) -> tuple[IPAddress, str] | None:
    """Why no webhook may go to this address (the address meant, and what it is), or None.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by the IPv4
    address alone: that is where the packets go, and the prefixes themselves are reserved
    ranges, so judging them too would refuse every receiver behind DNS64."""
    judged: list[IPAddress] = [*_embedded(address)] or [address]
    for a in judged:
        if a in METADATA_ADDRESSES:
            return a, "a cloud metadata address"
        for kind, flag in (
            ("a loopback address", a.is_loopback),
            ("the unspecified address", a.is_unspecified),
            ("a link-local address", a.is_link_local),
            ("a multicast address", a.is_multicast),
            ("a private address", a.is_private),
            ("a reserved address", a.is_reserved),
            ("not a public address", not a.is_global),
        ):
            if flag:
                return a, kind
    return None


def _embedded(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if isinstance(address, ipaddress.IPv4Address):
        return []
    inner = [address.ipv4_mapped, address.sixtofour]
    if address in NAT64:
        inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in inner if a is not None]


def literal(host: str) -> IPAddress | None:
    """The address a host names by itself: also the old forms that connect() takes
    (`2130706433`, `0x7f000001`, `127.1`) for 127.0.0.1."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


@dataclass(frozen=True)
class Destination:
    url: httpx2.URL
    host: str  # IDNA-encoded, as sent in the TLS server name
    port: int


def destination(url: str, *, allow_private: bool) -> Destination:
    """The checks that need no network: scheme, credentials, internal names and addresses."""
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    if parsed.scheme != "https" and not (parsed.scheme == "http" and allow_private):
        raise Refused(f"must be an https:// URL (http:// too when {ALLOW_HINT})")
    if parsed.userinfo:
        raise Refused("may not carry a user name or password (the signature authenticates us)")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise Refused("has no host")
    try:
        host.encode("idna")  # what the resolver will do with it: labels of 1 to 63 characters
    except UnicodeError:
        raise Refused(f"{host!r} is not a host name") from None
    port = (443 if parsed.scheme == "https" else 80) if parsed.port is None else parsed.port
    if not 0 < port < 65536:
        raise Refused(f"port {port} does not exist")
    if not allow_private:
        name = host.rstrip(".").lower()
        if name in INTERNAL_NAMES or name.endswith(".localhost"):
            raise Refused(f"{host} is an internal name")
        if (address := literal(host)) is not None:
            _refuse(host, [address])
    return Destination(parsed, host, port)


def _refuse(host: str, addresses: Iterable[IPAddress]) -> None:
    """Refused when any address is internal: a name with one public and one internal address
    could be sent to either."""
    for address in addresses:
        if found := kind_of(address):
            inner, kind = found
            if literal(host) is None:
                raise Refused(f"{host} resolves to {inner}, {kind}")
            raise Refused(f"{inner} is {kind}")


def _addresses(infos: Iterable[tuple[Any, ...]]) -> list[IPAddress]:
    # A link-local IPv6 answer carries its interface ("fe80::1%eth0"), which a URL cannot.
    found = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    return list(dict.fromkeys(found))


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for the host, in its order of preference."""
    loop = asyncio.get_running_loop()
    return _addresses(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))


def check_subscription(url: str, *, allow_private: bool) -> None:
    """Refuses a URL the worker would refuse. A name that does not resolve now is taken: DNS
    may be down or the receiver not yet published, and every delivery checks again."""
    found = destination(url, allow_private=allow_private)
    if allow_private or literal(found.host) is not None:
        return
    # Bounded: the caller holds a write transaction (on SQLite, the database's one write lock)
    # and a resolver that does not answer must not hold it for its whole timeout.
    lookup = _lookups().submit(socket.getaddrinfo, found.host, found.port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=SUBSCRIPTION_LOOKUP_SECONDS)
    except (OSError, TimeoutError):
        return
    _refuse(found.host, _addresses(infos))


SUBSCRIPTION_LOOKUP_SECONDS = 2.0


@functools.cache
def _lookups() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(2, thread_name_prefix="webhook-dns")


async def target(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """Where a delivery may connect now; Refused, or Unresolved."""
    found = destination(url, allow_private=allow_private)
    try:
        addresses = await resolver(found.host, found.port)
    except OSError as exc:
        raise Unresolved(f"{found.host} does not resolve ({exc.strerror or exc})") from None
    if not addresses:
        raise Unresolved(f"{found.host} has no address")
    internal = any(kind_of(a) for a in addresses)
    if internal and not allow_private:
        _refuse(found.host, addresses)
    https = found.url.scheme == "https"
    return Target(
        url=found.url.copy_with(host=str(addresses[0])),
        host_header=found.url.netloc.decode("ascii"),
        extensions={"sni_hostname": found.host} if https else {},
        public=not internal,
    )
