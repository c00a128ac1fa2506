"""IMAP probe session: greeting, CAPABILITY, STARTTLS, LOGIN (one attempt), LOGINDISABLED,
and after an accepted login the INBOX quota (GETQUOTAROOT, RFC 9208).

A small asyncio client rather than imaplib, so every step shares the pipeline's deadlines.
The probe never selects a mailbox: it logs in and LOGOUTs.
"""

from __future__ import annotations

import re
import socket
import ssl

from bot.probes.endpoint import Login, LoginResult
from bot.probes.lines import LineSession
from bot.probes.replies import judged, meaning
from bot.probes.session import StepFailed

MAX_UNTAGGED = 50
_STORAGE = re.compile(r"\bSTORAGE\s+(\d+)\s+(\d+)", re.IGNORECASE)  # RFC 9208 resource


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession(LineSession):
    """One IMAP connection."""

    protocol = "imap"

    def __init__(self, host: str, ctx: ssl.SSLContext, timeout: float) -> None:
        super().__init__(host, ctx, timeout)
        self.greeting_caps: tuple[str, ...] = ()
        self._tag = 0

    async def open(self, sock: socket.socket, implicit_tls: bool) -> str:
        greeting = await self._read_greeting(sock, implicit_tls)
        if greeting.upper().startswith("* BYE"):
            raise StepFailed("refused", f"the server refused the session: {greeting[:120]}")
        if not greeting.upper().startswith(("* OK", "* PREAUTH")):
            raise StepFailed("garbage", f"not an IMAP greeting: {greeting[:80]!r}")
        return greeting

    async def _command(self, command: str) -> tuple[list[str], str]:
        """Send a tagged command; return the untagged lines and the tagged status line."""
        self._tag += 1
        tag = f"d{self._tag}"
        await self._io().send(f"{tag} {command}")
        untagged: list[str] = []
        for _ in range(MAX_UNTAGGED):
            line = await self._io().readline()
            if line.startswith(tag + " "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)
        raise StepFailed("garbage", f"no tagged reply to {command.split()[0]}")

    async def capabilities(self) -> tuple[str, ...]:
        untagged, status = await self._command("CAPABILITY")
        if not status.upper().startswith("OK"):
            raise StepFailed("refused", f"CAPABILITY failed: {status[:120]}")
        for line in untagged:
            if line.upper().startswith("* CAPABILITY"):
                return tuple(word.upper() for word in line.split()[2:])
        return ()

    def offers_starttls(self, caps: tuple[str, ...]) -> bool:
        return "STARTTLS" in caps

    async def starttls(self) -> None:
        _, status = await self._command("STARTTLS")
        if not status.upper().startswith("OK"):
            raise StepFailed("refused", f"STARTTLS refused: {status[:120]}")
        await self._io().start_tls(self.ctx, self.host, self.timeout)

    def mechanisms(self, caps: tuple[str, ...]) -> tuple[str, ...]:
        mechs = [c.removeprefix("AUTH=") for c in caps if c.startswith("AUTH=")]
        if "LOGINDISABLED" not in caps:
            mechs.insert(0, "LOGIN")
        return tuple(mechs)

    def plaintext_refused(self, caps: tuple[str, ...]) -> bool:
        return "LOGINDISABLED" in caps

    async def login(self, login: Login, caps: tuple[str, ...]) -> LoginResult:
        if "LOGINDISABLED" in caps:
            return LoginResult("plaintext_refused", "LOGINDISABLED", login.username)
        _, status = await self._command(f"LOGIN {_quote(login.username)} "
                                        f"{_quote(login.password)}")
        upper = status.upper()
        if upper.startswith("OK"):
            return LoginResult("ok", status, login.username, quota=await self._quota())
        found = meaning(status)
        if found is not None:
            return judged(found, status, login.username)
        if upper.startswith("NO"):
            return LoginResult("rejected", status, login.username)
        return LoginResult("error", status, login.username)

    async def _quota(self) -> tuple[int, int] | None:
        """STORAGE (used, limit) in KiB of the INBOX's quota root (RFC 9208), if reported.

        Asked after every accepted login: a full mailbox is invisible to a login alone."""
        try:
            untagged, status = await self._command("GETQUOTAROOT INBOX")
        except StepFailed:
            return None
        if not status.upper().startswith("OK"):
            return None  # no QUOTA extension, or no quota set
        for line in untagged:
            found = _STORAGE.search(line)
            if line.upper().startswith("* QUOTA ") and found:
                return int(found.group(1)), int(found.group(2))
        return None

    async def close(self) -> None:
        if self.stream is None:
            return
        try:
            await self._command("LOGOUT")
        except StepFailed:
            pass
        finally:
            self.stream.close()
