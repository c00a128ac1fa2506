"""Conversations over HTTP: the engine, the session store and the per-session lock together."""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import MessageIdReused
from bot.interfaces.http.serialize import reply_json
from bot.probes.model import ProbeObserver
from bot.probes.runners import ProbeCall, ProbeClock
from bot.scrub import REDACTED, scrub, scrub_text, session_secrets
from bot.sessions import SessionStore, StoredSession

if TYPE_CHECKING:
    from bot.transcripts import Transcript

log = logging.getLogger(__name__)

# The service's own key in a stored state: the last message id and its reply (retries).
LAST_MESSAGE = "last_client_message"


class ReplyLike(Protocol):
    """What the service reads from an engine reply (docs/api.md `Reply`)."""

    @property
    def messages(self) -> Sequence[Any]: ...

    @property
    def outcome(self) -> Any: ...

    @property
    def question(self) -> Any: ...


class SessionLike(Protocol):
    """The engine session API the service drives (docs/api.md `Session`)."""

    async def open(self, *, call: ProbeCall = ...) -> ReplyLike: ...

    async def send(self, text: str, observer: ProbeObserver | None = None, *,
                   call: ProbeCall = ...) -> ReplyLike: ...

    def to_dict(self) -> dict[str, Any]: ...

    def transcript(self) -> Transcript: ...

    def held_secrets(self) -> tuple[str, ...]: ...


class EngineLike(Protocol):
    """The engine API the service drives (docs/api.md `Engine`)."""

    def start(self, context: Mapping[str, str] | None = None) -> SessionLike: ...

    def restore(self, state: dict[str, Any]) -> SessionLike: ...


@dataclass(frozen=True)
class Turn:
    """The result of one request: the reply as JSON, the session's id, where the time went."""

    session_id: str
    body: dict[str, Any]
    probe_seconds: float = 0.0


def call_of(session_id: str, client: str) -> ProbeCall:
    """The context of one turn's probe calls: whose conversation, which client address (the
    login budget counts per both) and a fresh clock for the turn's probe time."""
    return ProbeCall(session=session_id, client=client, vantage="server", clock=ProbeClock())


def _seconds(call: ProbeCall) -> float:
    return call.clock.seconds if call.clock is not None else 0.0


class LiveSessions:
    """Recently used engine sessions of this worker, keyed by id and store revision.

    Reusing the live object skips a restore and keeps a password typed earlier in memory (it is
    never stored); a revision mismatch means another worker moved the session on, so it is
    restored from the store instead.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[int, SessionLike]] = OrderedDict()

    def get(self, session_id: str, rev: int) -> SessionLike | None:
        item = self._items.get(session_id)
        if item is None or item[0] != rev:
            return None
        self._items.move_to_end(session_id)
        return item[1]

    def put(self, session_id: str, rev: int, session: SessionLike) -> None:
        if self.size <= 0:
            return
        self._items[session_id] = (rev, session)
        self._items.move_to_end(session_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def drop(self, session_id: str) -> None:
        self._items.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._items)


MAX_HELD = 10_000  # sessions whose passwords this worker remembers (in memory, never written)


class HeldSecrets:
    """The passwords each session has learnt, in this worker's memory only, never written.

    A session restored from the store (its live object dropped when it ended, or never cached:
    `cache_sessions = 0`) no longer knows them, yet a later line may type one again ("I also
    tried … on webmail"); whatever is saved or shown is scrubbed of these too.
    """

    def __init__(self, size: int = MAX_HELD) -> None:
        self.size = size
        self._items: OrderedDict[str, frozenset[str]] = OrderedDict()

    def known(self, session_id: str, session: SessionLike) -> list[str]:
        """Every password known for the session: the live object's and those held."""
        values = self._items.get(session_id, frozenset()) | set(session_secrets(session))
        if values:
            self._items[session_id] = frozenset(values)
            self._items.move_to_end(session_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return sorted(values)


class ChatService:
    """Starts, continues and reads conversations; one message at a time per session."""

    def __init__(self, engine: EngineLike, store: SessionStore, *, cache_size: int = 1000):
        self.engine = engine
        self.store = store
        self.live = LiveSessions(cache_size)
        self.held = HeldSecrets()

    async def start(self, context: Mapping[str, str], *, client: str = "-") -> Turn:
        """A new conversation with the ticket's context slots; returns the greeting.
        `client`: the customer's connection address (the login budget counts per client)."""
        session_id = secrets.token_urlsafe(18)
        session = self.engine.start(dict(context))
        # No lock: nobody else knows this id until the response carries it.
        call = call_of(session_id, client)
        reply = await session.open(call=call)
        await self._save(session_id, 1, session)
        return Turn(session_id, _shown(reply, self.held.known(session_id, session)),
                    _seconds(call))

    async def send(
        self, session_id: str, text: str, observer: ProbeObserver | None = None,
        *, message_id: str | None = None, client: str = "-",
    ) -> Turn | None:
        """Handle one user line; None when the session is unknown. `client`: the customer's
        connection address.

        A turn is atomic: nothing of it is visible (in memory or in the store) unless its
        save succeeded; a failed save raises StoreUnavailable (503) and the client may retry.
        A retry carrying the `message_id` of the last message handled gets that reply again
        instead of being applied twice.
        """
        async with self.store.lock(session_id):
            stored = await self.store.load(session_id)
            if stored is None:
                return None
            done = stored.state.get(LAST_MESSAGE)
            session = self._session(session_id, stored)
            if message_id is not None and isinstance(done, dict) and done.get("id") == message_id:
                if not _same_line(done.get("text"), text, self.held.known(session_id, session)):
                    raise MessageIdReused(
                        f"message_id {message_id!r} was already used for another message; "
                        "send the new message with a new message_id")
                return Turn(session_id, dict(done["reply"]))
            call = call_of(session_id, client)
            try:
                reply = await session.send(text, observer, call=call)
                known = self.held.known(session_id, session)
                body = _shown(reply, known)
                last = ({"id": message_id, "text": scrub_text(text, known), "reply": body}
                        if message_id is not None else None)
                await self._save(session_id, stored.rev + 1, session, last)
            except BaseException:
                # The live object may be half-way through the turn, or ahead of a store that
                # refused it: the next request starts again from the last saved state.
                self.live.drop(session_id)
                raise
        return Turn(session_id, body, _seconds(call))

    async def session(self, session_id: str) -> SessionLike | None:
        """The conversation as it stands (for transcripts), or None when unknown."""
        stored = await self.store.load(session_id)
        if stored is None:
            return None
        # a read does not cache: only conversations still going on are worth the memory
        live = self.live.get(session_id, stored.rev)
        return live if live is not None else self.engine.restore(_engine_state(stored))

    async def exists(self, session_id: str) -> bool:
        """True when the store knows the session."""
        return await self.store.load(session_id) is not None

    def _session(self, session_id: str, stored: StoredSession) -> SessionLike:
        live = self.live.get(session_id, stored.rev)
        if live is not None:
            return live
        session = self.engine.restore(_engine_state(stored))
        self.live.put(session_id, stored.rev, session)
        return session

    async def _save(self, session_id: str, rev: int, session: SessionLike,
                    last: dict[str, Any] | None = None) -> None:
        # every form of a password the session knows (typed, or echoed by a server quoted or
        # base64-encoded) is scrubbed before the state leaves memory
        raw = session.to_dict()
        state = scrub(raw, self.held.known(session_id, session))
        saved = {**state, LAST_MESSAGE: last} if last is not None else state
        await self.store.save(session_id, StoredSession(rev=rev, state=saved))
        # a secret learnt late was in an earlier version (scrubbed now, or a misplaced line
        # the engine forgot this turn): shred it
        if state is not raw or raw.get("forgot_secret"):
            await self.store.shred()
        if getattr(session, "outcome", None) is None:
            self.live.put(session_id, rev, session)
        else:  # finished: forget the live object, and with it any password held in memory
            self.live.drop(session_id)


def _shown(reply: ReplyLike, known: Sequence[str]) -> dict[str, Any]:
    """The reply as JSON, without any form of a password the session knows."""
    body: dict[str, Any] = scrub(reply_json(reply), known)
    return body


def _engine_state(stored: StoredSession) -> dict[str, Any]:
    """The engine's part of a stored state (without the service's retry record)."""
    return {k: v for k, v in stored.state.items() if k != LAST_MESSAGE}


def _same_line(kept: object, text: str, known: Sequence[str]) -> bool:
    """Whether a retry carries the line its `message_id` first named (the line as stored:
    scrubbed of every password the session knows). A worker that knows none of them (another
    worker took the first try) cannot compare a redacted line, and takes it as the same."""
    if not isinstance(kept, str):
        return False
    return kept == scrub_text(text, known) or (REDACTED in kept and not known)
