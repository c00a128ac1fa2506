"""POP3 probe session: greeting, CAPA, STLS, USER/PASS (one attempt), `[IN-USE]` told apart.

A small asyncio client rather than poplib, so every step shares the pipeline's deadlines.
The probe never lists, reads or deletes messages: it logs in and QUITs.
"""

from __future__ import annotations

import socket

from bot.probes.endpoint import Login, LoginResult
from bot.probes.lines import LineSession
from bot.probes.replies import judged, meaning
from bot.probes.session import StepFailed

MAX_CAPA_LINES = 100


class Pop3Session(LineSession):
    """One POP3 connection."""

    protocol = "pop3"

    async def open(self, sock: socket.socket, implicit_tls: bool) -> str:
        greeting = await self._read_greeting(sock, implicit_tls)
        if not greeting.startswith("+OK"):
            kind = "refused" if greeting.startswith("-ERR") else "garbage"
            raise StepFailed(kind, f"not a POP3 greeting: {greeting[:80]!r}")
        return greeting

    async def _command(self, line: str) -> str:
        await self._io().send(line)
        return await self._io().readline()

    async def capabilities(self) -> tuple[str, ...]:
        reply = await self._command("CAPA")
        if not reply.startswith("+OK"):
            return ()  # CAPA is optional (RFC 2449): an old server simply says -ERR
        caps: list[str] = []
        for _ in range(MAX_CAPA_LINES):
            line = await self._io().readline()
            if line == ".":
                return tuple(caps)
            caps.append(line.strip().upper())
        raise StepFailed("garbage", "CAPA list never ended")

    def offers_starttls(self, caps: tuple[str, ...]) -> bool:
        return "STLS" in caps

    async def starttls(self) -> None:
        reply = await self._command("STLS")
        if not reply.startswith("+OK"):
            raise StepFailed("refused", f"STLS refused: {reply[:120]}")
        await self._io().start_tls(self.ctx, self.host, self.timeout)

    def mechanisms(self, caps: tuple[str, ...]) -> tuple[str, ...]:
        mechs = ["USER"] if "USER" in caps or not caps else []
        for cap in caps:
            if cap.startswith("SASL "):
                mechs += cap.split()[1:]
        return tuple(mechs)

    def plaintext_refused(self, caps: tuple[str, ...]) -> bool:
        # Dovecot drops USER from CAPA when it refuses plaintext logins
        return bool(caps) and "USER" not in caps

    async def login(self, login: Login, caps: tuple[str, ...]) -> LoginResult:
        reply = await self._command(f"USER {login.username}")
        if not reply.startswith("+OK"):
            return self._judge(reply, login)
        reply = await self._command(f"PASS {login.password}")
        if reply.startswith("+OK"):
            return LoginResult("ok", reply, login.username)
        return self._judge(reply, login)

    @staticmethod
    def _judge(reply: str, login: Login) -> LoginResult:
        upper = reply.upper()
        found = meaning(reply)
        if found is not None:
            return judged(found, reply, login.username)
        if "[AUTH]" in upper or upper.startswith("-ERR"):
            return LoginResult("rejected", reply, login.username)
        return LoginResult("error", reply, login.username)

    async def close(self) -> None:
        if self.stream is None:
            return
        try:
            await self.stream.send("QUIT")
            await self.stream.readline()
        except StepFailed:
            pass
        finally:
            self.stream.close()
