"""The one address policy: may deskbot connect to this IP address when private targets are not
allowed (serve mode)? Shared by the probes (bot.probes.policy) and the autoconfig fetch
(bot.probes.fetch), so both refuse the same addresses.

An IPv6 address can carry an IPv4 one, which a gateway on the path turns back into IPv4: on a
NAT64 host `64:ff9b::a9fe:a9fe` reaches 169.254.169.254, the cloud metadata service. So the
embedded IPv4 address of every such form is checked as well:
- IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (RFC 4291 §2.5.5),
- SIIT `::ffff:0:a.b.c.d` (RFC 7915/2765),
- NAT64 well-known prefix `64:ff9b::/96` (RFC 6052),
- 6to4 `2002:AABB:CCDD::/48` (RFC 3056),
- Teredo `2001::/32`: the client address is the last 32 bits inverted (RFC 4380).
Ranges that are never a public mail or web server are refused outright: the NAT64 local-use
prefix `64:ff9b:1::/48` (RFC 8215), site-local `fec0::/10` (deprecated, RFC 3879) and every
multicast address (Python's `is_global` counts global-scope multicast as global).
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIIT = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, SIIT, NAT64, 6to4,
    Teredo client), or None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or ip in _SIIT or ip in _COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _public(ip: IPAddress) -> bool:
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return not ip.is_site_local and ip not in _NAT64_LOCAL
    return True


def refusal(address: str) -> str | None:
    """Why `address` is not a public unicast address (a sentence), or None when it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv4Address):
        return None if _public(ip) else f"{address} is a private or reserved address"
    inner = embedded_ipv4(ip)
    if inner is not None and not _public(inner):
        return f"{address} carries the IPv4 address {inner}, which is not public"
    # mapped and NAT64 addresses stand for their IPv4 one (some Python versions call these
    # prefixes private as a whole)
    stands_for_ipv4 = inner is not None and (ip in _NAT64 or ip.ipv4_mapped is not None)
    if not _public(ip) and not stands_for_ipv4:
        return f"{address} is a private or reserved address (local, multicast or special use)"
    return None


def is_public(address: str) -> bool:
    """True when `refusal(address)` is None."""
    return refusal(address) is None
