"""A connected port that says nothing: the sign of an implicit-TLS port met in plain text.

SMTP, POP3 and IMAP servers speak first (a greeting right after the connect), while a port of
implicit TLS (RFC 8314 §3: 465 submissions, 993 imaps, 995 pop3s) says nothing until the client
sends its TLS ClientHello. A client set to STARTTLS or none therefore waits for a greeting that
never comes. Once a connected port has stayed silent past `greeting_deadline()`, the probe asks a
second connection whether the port completes a TLS handshake; a completed handshake proves the
mode (a plain-text server cannot complete one), so the verdict needs no timeout.

The wait is on the raw socket and consumes nothing: a plain server whose greeting starts late
(a reverse DNS lookup first, or a multi-line greeting whose first line comes early) is never
sent a ClientHello while it is still greeting.
"""

from __future__ import annotations

import asyncio
import socket

from bot.probes.tcp import RTT_MULTIPLE

# A plain server's greeting follows the connect within a round trip plus its own start-up
# (often a reverse DNS lookup of the client, tens to hundreds of ms); waiting this long before
# a second connection keeps the hedge off servers that are merely slow to greet.
GREETING_FLOOR = 0.5  # seconds


def greeting_deadline(connect_ms: float) -> float:
    """Seconds a connected port may stay silent before the TLS question is asked: the larger
    of `GREETING_FLOOR` and `RTT_MULTIPLE` times the measured connect time (one round trip)."""
    return max(GREETING_FLOOR, RTT_MULTIPLE * connect_ms / 1000)


async def silent_for(sock: socket.socket, seconds: float) -> bool:
    """True when no byte (and no close) arrived on `sock` within `seconds`; reads nothing."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(sock.fileno(), ready)
    try:
        done, _ = await asyncio.wait({readable}, timeout=seconds)
    finally:
        loop.remove_reader(sock.fileno())
        readable.cancel()
    return not done
