"""The customer's side of a conversation: probe-link offers, evidence, and what it delivers.

`CustomerSide` ties the link book (probelinks.py), the evidence schema (evidence.py) and the
engine's `customer_check()`/`take_evidence()` together; the routes (probe_routes.py) call it.
Every accepted upload is kept as a delivery (`pevents.<session>`: its checks and the reply),
which the chat page reads from `GET /v1/sessions/{id}/events`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.catalog.model import Provider
from bot.engine.values import BotMessage
from bot.interfaces.http.probelinks import Link, LinkBook, iso
from bot.interfaces.http.serialize import reply_json, to_json
from bot.interfaces.http.service import ChatService, EngineLike, Turn, call_of
from bot.interfaces.http.validation import Problem
from bot.interfaces.http.webhook import Webhook
from bot.probes.job import ProbeJob, planned_endpoints
from bot.probes.model import ProbeReport
from bot.sessions import StoredSession

log = logging.getLogger(__name__)

EVENTS_PREFIX = "pevents."
KEEP_DELIVERIES = 5


class CheckLike(Protocol):
    """What the engine's `customer_check()` returns (bot.engine.evidence.CustomerCheck)."""

    probe: str
    flow: str
    node: str
    login: bool

    @property
    def params(self) -> Any: ...

    @property
    def report(self) -> ProbeReport | None: ...

    @property
    def provider(self) -> Provider | None: ...


@dataclass(frozen=True)
class Offer:
    """A fresh link for a session, with the commands to run it."""

    url: str
    expires_at: str
    command: str
    kit_url: str
    kit_command: str

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "expires_at": self.expires_at, "command": self.command,
                "kit_url": self.kit_url, "kit_command": self.kit_command}


def job_of(check: CheckLike) -> ProbeJob:
    """The job repeating a server-side check, with the servers the check sweeps (the server's
    report's provider, else the session's: a check the port policy skipped reports none)."""
    return ProbeJob.of(check.probe, dict(check.params), check.provider, check.login)


class CustomerSide:
    """Offers links, takes evidence into the session, notifies the webhook on handoff."""

    def __init__(self, service: ChatService, book: LinkBook,
                 customer_engine: EngineLike | None, webhook: Webhook | None) -> None:
        self.service = service
        self.book = book
        self.customer_engine = customer_engine
        self.webhook = webhook

    async def check_for(self, session_id: str) -> CheckLike | Problem | None:
        """The check a link would repeat: None when the session is unknown, a 409 when there
        is nothing to check from the customer's side."""
        session = await self.service.session(session_id)
        if session is None:
            return None
        finder = getattr(session, "customer_check", None)
        check = finder() if callable(finder) and self.customer_engine is not None else None
        if check is None:
            return Problem(409, "nothing to check from the customer's side in this "
                                "conversation now: a link is offered when a check made from "
                                "the help desk's server cannot settle the question")
        if not planned_endpoints(job_of(check)):  # no server known: nothing to run there
            return Problem(409, "nothing to check from the customer's side: neither the "
                                "conversation nor the catalogue names a server to test")
        return check  # type: ignore[no-any-return]

    async def offer(self, base: str, session_id: str, check: CheckLike) -> Offer:
        """Create a link for `check` and the exact commands to run it."""
        token, expires = await self.book.create(session_id, job_of(check),
                                                (check.probe, check.flow, check.node))
        if await self.service.store.load(EVENTS_PREFIX + session_id) is None:
            # the events route waits only for sessions that were offered a link
            await self.service.store.save(EVENTS_PREFIX + session_id,
                                          StoredSession(0, {"deliveries": []}))
        url = f"{base}/v1/probe-links/{token}"
        return Offer(url, iso(expires), f"deskbot probe --join {url}", f"{base}/v1/probe-kit",
                     f"python3 deskbot-probe.pyz --join {url}")

    def offer_message(self, offer: Offer) -> dict[str, Any]:
        """The bot's message carrying a link (a plain chat page shows it as text)."""
        minutes = max(1, round(self.book.settings.ttl / 60))
        text = (
            "I can check this from your own computer, which sees your network as your mail "
            f"app does. Within {minutes} minutes, run this there:\n\n    {offer.command}\n\n"
            f"No deskbot installed? Download {offer.kit_url} (it needs only Python 3.11 or "
            f"newer) and run:\n\n    {offer.kit_command}\n\n"
            "Before it connects it shows you exactly which servers it will contact; it asks "
            "for your password only on your computer and sends me only the results. I will "
            "go on as soon as they arrive.")
        # shaped like every other message of a reply, plus the link for pages that want it
        return {**to_json(BotMessage("text", text)), "probe_link": offer.to_dict()}

    async def after_turn(self, base: str, turn: Turn) -> Turn:
        """When this turn handed off: notify the webhook, and offer a link if a customer-side
        run could settle it."""
        if not any(m.get("kind") == "handoff" for m in turn.body.get("messages", ())):
            return turn
        self.notify(turn.session_id, turn.body)
        check = await self.check_for(turn.session_id)
        if check is None or isinstance(check, Problem):
            return turn
        if await self.over_limit(turn.session_id):
            return turn
        message = self.offer_message(await self.offer(base, turn.session_id, check))
        return replace(turn, body={**turn.body, "messages": [*turn.body["messages"], message]})

    async def over_limit(self, session_id: str) -> bool:
        """Count a link for the session; True past `probe_links_per_session` in the window."""
        s = self.book.settings
        return await self.service.store.hit(f"plink:s:{session_id}", s.window) > s.per_session

    async def take(self, link: Link, report: ProbeReport, *, client: str = "-") -> Turn | Problem:
        """Continue the link's session with the customer's report (under the session lock);
        `client`: the address the report came from."""
        if self.customer_engine is None:
            return Problem(409, "this service does not take customer-side evidence")
        store, session_id = self.service.store, link.session_id
        async with store.lock(session_id):
            stored = await store.load(session_id)
            if stored is None:
                return Problem(410, "the conversation of this probe link has ended and was "
                                    "deleted")
            session: Any = self.customer_engine.restore(dict(stored.state))
            check = session.customer_check()
            if check is None or (check.probe, check.flow, check.node) != link.check:
                return Problem(409, "the conversation has moved on since this probe link was "
                                    "made; ask the help desk for a new one")
            call = call_of(session_id, client)
            reply = await session.take_evidence(check, report, call=call)
            await store.save(session_id, StoredSession(stored.rev + 1, session.to_dict()))
            self.service.live.drop(session_id)
        turn = Turn(session_id, reply_json(reply), call.clock.seconds if call.clock else 0.0)
        await self._deliver(session_id, report, turn.body)
        return turn

    async def _deliver(self, session_id: str, report: ProbeReport, body: dict[str, Any]) -> None:
        key = EVENTS_PREFIX + session_id
        stored = await self.service.store.load(key)
        deliveries = list(stored.state.get("deliveries", ())) if stored else []
        number = (stored.rev if stored else 0) + 1
        checks = [{**c.to_dict(), "vantage": "customer"} for c in report.checks]
        deliveries.append({"n": number, "checks": checks, "reply": body})
        state = {"deliveries": deliveries[-KEEP_DELIVERIES:]}
        await self.service.store.save(key, StoredSession(number, state))

    async def deliveries(self, session_id: str, after: int) -> list[dict[str, Any]] | None:
        """Deliveries numbered above `after` (oldest first); None when the session was never
        offered a link (nothing will arrive)."""
        stored = await self.service.store.load(EVENTS_PREFIX + session_id)
        if stored is None:
            return None
        if stored.rev <= after:
            return []
        return [d for d in stored.state.get("deliveries", ()) if int(d["n"]) > after]

    def notify(self, session_id: str, body: dict[str, Any]) -> None:
        """Send the handoff package to the webhook, in the background."""
        if self.webhook is None:
            return
        package = next((m.get("handoff") for m in body.get("messages", ())
                        if m.get("kind") == "handoff"), None)
        self.webhook.send({"event": "handoff", "session": session_id,
                           "outcome": body.get("outcome"), "handoff": package,
                           "delivered_at": iso_now()})


def iso_now() -> str:
    """The current time as ISO 8601 UTC."""
    return iso(time.time())
