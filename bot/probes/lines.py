"""CRLF line I/O for the POP3 and IMAP probe sessions (asyncio streams, with STARTTLS)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

from bot.probes.session import Session, StepFailed, TlsFailed
from bot.probes.tls import classify_error
from bot.probes.wire import REFUSED, wire_unsafe

MAX_LINE = 8192


class LineStream:
    """CRLF line I/O over asyncio streams (POP3 and IMAP), with STARTTLS."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, sock: socket.socket, ctx: ssl.SSLContext | None, host: str,
                   timeout: float) -> LineStream:
        """Wrap a connected socket; with `ctx` the TLS handshake happens first."""
        try:
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=ctx, server_hostname=host if ctx else None,
                ssl_handshake_timeout=timeout if ctx else None, limit=MAX_LINE,
            )
        except (ssl.SSLError, ConnectionError, EOFError) as exc:
            sock.close()
            raise TlsFailed(classify_error(exc, host)) from exc
        except TimeoutError:
            sock.close()
            raise
        return cls(reader, writer)

    async def readline(self) -> str:
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise StepFailed("garbage", f"unexpected reply {_show(exc.partial)}") from exc
            raise StepFailed("closed", "the server closed the connection") from exc
        except asyncio.LimitOverrunError as exc:
            raise StepFailed("garbage", "the server sent a line too long for a mail "
                             "protocol") from exc
        except (ConnectionError, ssl.SSLError) as exc:
            raise StepFailed("closed", f"connection lost ({exc})") from exc
        return line.decode("utf-8", errors="replace").rstrip("\r\n")

    async def send(self, line: str) -> None:
        """Write one command line; a line holding CR, LF or NUL is refused, never written."""
        if wire_unsafe(line):
            raise StepFailed("refused", f"command {line.split(' ', 1)[0][:20]!r} {REFUSED}")
        try:
            self.writer.write(line.encode("utf-8") + b"\r\n")
            await self.writer.drain()
        except (ConnectionError, ssl.SSLError) as exc:
            raise StepFailed("closed", f"connection lost ({exc})") from exc

    async def start_tls(self, ctx: ssl.SSLContext, host: str, timeout: float) -> None:
        try:
            await self.writer.start_tls(ctx, server_hostname=host,
                                        ssl_handshake_timeout=timeout)
        except (ssl.SSLError, ConnectionError, EOFError) as exc:
            raise TlsFailed(classify_error(exc, host)) from exc

    def ssl_object(self) -> ssl.SSLObject | None:
        obj = self.writer.get_extra_info("ssl_object")
        return obj if isinstance(obj, ssl.SSLObject) else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


def _show(data: bytes) -> str:
    return repr(data[:60].decode("latin-1"))


class LineSession(Session):
    """A text line protocol (POP3, IMAP): one LineStream, opened on a connected socket."""

    def __init__(self, host: str, ctx: ssl.SSLContext, timeout: float) -> None:
        super().__init__(host, ctx, timeout)
        self.stream: LineStream | None = None

    def _io(self) -> LineStream:
        if self.stream is None:
            raise StepFailed("closed", "not connected")
        return self.stream

    async def _read_greeting(self, sock: socket.socket, implicit_tls: bool) -> str:
        ctx = self.ctx if implicit_tls else None
        self.stream = await LineStream.open(sock, ctx, self.host, self.timeout)
        return await self._io().readline()

    def ssl_object(self) -> ssl.SSLObject | None:
        return self.stream.ssl_object() if self.stream else None
