"""Probe links: single-use, expiring tokens that let a customer's computer run one session's check.

A link is `{base}/v1/probe-links/{token}` with a 192-bit random token. The store keeps only the
token's SHA-256 (a leaked database holds no usable link) under `plink.<hash>`, with the session
it is bound to, the job, and its state:

    new ──GET (the job)──▶ claimed ──POST evidence accepted──▶ used
     ▲                        │
     └──POST release (declined)┘
     └── expires_at passed: 410             └── claimed_at + ttl passed: 410

Claiming hands out a second random token for the upload, so a link read once cannot be used by
whoever reads it next. Records live in the session store (they share its ttl and its workers),
under ids that contain a dot, which session ids never do.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.interfaces.http.validation import Problem
from bot.probes.job import ProbeJob
from bot.sessions import SessionStore, StoredSession

LINK_PREFIX = "plink."
TOKEN_BYTES = 24  # 192 bits


@dataclass(frozen=True)
class LinkSettings:
    """The `[serve]` keys of probe links (seconds and counts)."""

    ttl: float = 900.0  # probe_link_ttl
    per_session: int = 10  # probe_links_per_session, per window
    per_address: int = 60  # probe_links_per_address: links made and bad tokens, per window
    window: float = 3600.0  # probe_link_window
    max_evidence_bytes: int = 256 * 1024  # max_evidence_bytes
    public_url: str = ""  # public_url: the service's address as customers reach it


@dataclass(frozen=True)
class Link:
    """A stored link: the session it belongs to, the check it repeats, and its state."""

    key: str
    session_id: str
    job: ProbeJob
    check: tuple[str, str, str]  # (probe, flow, node) the evidence continues from
    expires_at: float
    state: str = "new"  # new | claimed | used
    upload_hash: str = ""
    rev: int = 1

    def to_state(self) -> dict[str, Any]:
        return {"session": self.session_id, "job": self.job.to_dict(), "check": list(self.check),
                "expires_at": self.expires_at, "state": self.state,
                "upload_hash": self.upload_hash}

    @classmethod
    def from_state(cls, key: str, rev: int, data: dict[str, Any]) -> Link:
        probe, flow, node = (str(x) for x in data["check"])
        return cls(key, str(data["session"]), ProbeJob.from_dict(data["job"]),
                   (probe, flow, node), float(data["expires_at"]), str(data["state"]),
                   str(data.get("upload_hash", "")), rev)


def iso(timestamp: float) -> str:
    """A Unix time as ISO 8601 UTC (seconds)."""
    moment = datetime.fromtimestamp(timestamp, UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link_key(token: str) -> str:
    """The store id of a link token."""
    return LINK_PREFIX + _hash(token)


class LinkBook:
    """Creates, claims and closes probe links in the session store."""

    def __init__(self, store: SessionStore, settings: LinkSettings) -> None:
        self.store = store
        self.settings = settings

    async def create(self, session_id: str, job: ProbeJob,
                     check: tuple[str, str, str]) -> tuple[str, float]:
        """A new link for the session; returns (token, expires_at as Unix time)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = Link(link_key(token), session_id, job, check, time.time() + self.settings.ttl)
        await self._save(link)
        return token, link.expires_at

    async def claim(self, token: str) -> tuple[Link, str] | Problem:
        """Hand out the job once: the link becomes `claimed`; returns it and the upload token."""
        async with self.store.lock(link_key(token)):
            link = await self.load(token)
            if isinstance(link, Problem):
                return link
            if link.state != "new":
                return Problem(410, "this probe link was already used; ask the help desk "
                                    "for a new one")
            upload = secrets.token_urlsafe(TOKEN_BYTES)
            # the upload may come up to one ttl after the job was fetched
            claimed = Link(link.key, link.session_id, link.job, link.check,
                           time.time() + self.settings.ttl, "claimed", _hash(upload),
                           link.rev + 1)
            await self._save(claimed)
            return claimed, upload

    async def load(self, token: str) -> Link | Problem:
        """The live link of a token, or the 404/410 problem to answer with."""
        stored = await self.store.load(link_key(token))
        if stored is None:
            return Problem(404, "unknown probe link: check that it was copied whole, or ask "
                                "the help desk for a new one")
        link = Link.from_state(link_key(token), stored.rev, dict(stored.state))
        if link.state == "used":
            return Problem(410, "this probe link was already used; ask the help desk for a "
                                "new one")
        if time.time() > link.expires_at:
            return Problem(410, f"this probe link expired at {iso(link.expires_at)}; ask the "
                                "help desk for a new one")
        return link

    def upload_allowed(self, link: Link, upload_token: str) -> bool:
        """True when the link was claimed and this is the upload token it handed out."""
        return link.state == "claimed" and secrets.compare_digest(
            link.upload_hash, _hash(upload_token))

    async def release(self, token: str, upload_token: str) -> Link | Problem:
        """Give a claimed link back (the customer declined before anything ran): it is `new`
        again until its expiry, so the same link still works; 403 for another upload token."""
        async with self.store.lock(link_key(token)):
            link = await self.load(token)
            if isinstance(link, Problem):
                return link
            if not self.upload_allowed(link, upload_token):
                return Problem(403, "this upload token does not belong to this probe link")
            fresh = Link(link.key, link.session_id, link.job, link.check, link.expires_at,
                         "new", "", link.rev + 1)
            await self._save(fresh)
            return fresh

    async def close(self, link: Link) -> None:
        """Mark a link used (after its evidence was accepted)."""
        await self._save(Link(link.key, link.session_id, link.job, link.check, link.expires_at,
                              "used", "", link.rev + 1))

    async def _save(self, link: Link) -> None:
        await self.store.save(link.key, StoredSession(rev=link.rev, state=link.to_state()))
