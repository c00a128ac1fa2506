"""A minimal POP3S server for the one fault Dovecot cannot show quickly: a locked mailbox.

Dovecot with `pop3_lock_session = yes` does send `-ERR [IN-USE] Mailbox is locked by another
POP3 session.` to a second session, but only after its fixed ~10 s lock wait, longer than any
probe deadline. This stub replies with Dovecot's exact text at once (real credentials only;
others get Dovecot's `[AUTH]` failure), so probes and flows can be tested in milliseconds.
`Dovecot.lock_mailbox()` remains available for a slow, fully real check.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

IN_USE = b"-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n"
AUTH_FAILED = b"-ERR [AUTH] Authentication failed.\r\n"
CAPA = (b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nUSER\r\n"
        b"SASL PLAIN LOGIN\r\n.\r\n")


class LockedPop3:
    """Implicit-TLS POP3 whose one mailbox is always in use."""

    def __init__(self, tls: ssl.SSLContext, host: str, account: Callable[[], tuple[str, str]]):
        self.tls, self.host, self.account = tls, host, account
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        user = ""
        try:
            writer.write(b"+OK Dovecot test peer ready.\r\n")
            while line := await reader.readline():
                verb, _, arg = line.decode(errors="replace").strip().partition(" ")
                verb = verb.upper()
                if verb == "CAPA":
                    writer.write(CAPA)
                elif verb == "USER":
                    user = arg
                    writer.write(b"+OK\r\n")
                elif verb == "PASS":
                    writer.write(IN_USE if (user, arg) == self.account() else AUTH_FAILED)
                elif verb == "QUIT":
                    writer.write(b"+OK Logging out.\r\n")
                    break
                else:
                    writer.write(b"-ERR Unknown command.\r\n")
                await writer.drain()
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
