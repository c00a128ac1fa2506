"""A small authoritative DNS server on loopback (dnslib on asyncio UDP + TCP).

Serves whatever `Zone` holds: A/AAAA/MX/SRV/TXT/CNAME; a name not in the zone is NXDOMAIN,
a name in the zone without the asked type is an empty NOERROR answer ("no answer").
`Zone.down = True` drops every query, which a resolver sees as a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass, field

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, SRV, TXT, A, DNSRecord

log = logging.getLogger(__name__)


def _fqdn(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


@dataclass
class Zone:
    """Records by (name, type); values are text: A "127.0.0.1", MX "10 mx.host",
    SRV "prio weight port target" (target "." = not offered)."""

    records: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    down: bool = False
    queries: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, rtype: str, value: str) -> None:
        """Add one record (several of one type accumulate)."""
        self.records.setdefault((_fqdn(name), rtype.upper()), []).append(value)

    def set(self, name: str, rtype: str, *values: str) -> None:
        """Replace every record of one type; no values makes the name exist without it."""
        self.records[(_fqdn(name), rtype.upper())] = list(values)

    def remove(self, name: str) -> None:
        """Make a name disappear entirely (NXDOMAIN)."""
        for key in [k for k in self.records if k[0] == _fqdn(name)]:
            del self.records[key]

    def exists(self, name: str) -> bool:
        return any(k[0] == name for k in self.records)

    def answer(self, data: bytes) -> bytes | None:
        """The reply to one wire-format query, or None to stay silent."""
        if self.down:
            return None
        request = DNSRecord.parse(data)
        reply = request.reply()
        qname = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname.rstrip("."), qtype))
        if not self.exists(qname):
            reply.header.rcode = RCODE.NXDOMAIN
            return bytes(reply.pack())
        for value in self.records.get((qname, qtype), []):
            reply.add_answer(RR(qname, request.q.qtype, rdata=_rdata(qtype, value), ttl=60))
        return bytes(reply.pack())


def _rdata(qtype: str, value: str) -> object:
    if qtype == "A":
        return A(value)
    if qtype == "AAAA":
        return AAAA(value)
    if qtype == "MX":
        pref, host = value.split()
        return MX(_fqdn(host), int(pref))
    if qtype == "SRV":
        prio, weight, port, target = value.split()
        return SRV(int(prio), int(weight), int(port), "." if target == "." else _fqdn(target))
    if qtype == "CNAME":
        return CNAME(_fqdn(value))
    if qtype == "TXT":
        return TXT(value)
    raise ValueError(f"record type {qtype} not supported by the test DNS server")


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply = self.zone.answer(data)
        except Exception:  # a malformed query must not kill the server
            log.exception("bad DNS query")
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _tcp(zone: Zone, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            (size,) = struct.unpack("!H", await reader.readexactly(2))
            reply = zone.answer(await reader.readexactly(size))
            if reply is None:
                continue
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


class DnsServer:
    """UDP and TCP on the same loopback port, serving `zone`."""

    def __init__(self, zone: Zone, host: str = "127.0.0.1") -> None:
        self.zone = zone
        self.host = host
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # UDP picks the port; TCP may find it taken: retry
            transport, _proto = await loop.create_datagram_endpoint(
                lambda: _Udp(self.zone), local_addr=(self.host, 0)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(
                    lambda r, w: _tcp(self.zone, r, w), self.host, port
                )
            except OSError:
                transport.close()
                continue
            self._udp, self.port = transport, port
            return
        raise RuntimeError("no free port pair for the test DNS server")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
