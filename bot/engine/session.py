"""A conversation: one `ConversationState` driven through the shared flow machines.

Phases (`Phase`): `describe` (waiting for the problem), `clarify` (which of these?), `flow`
(at an ask node), `switch` (offered another symptom), `offer_human` (after three
misunderstandings), `done`. Repair ("I don't know", "go back", "start over", "talk to a
person") works in every phase. One message is handled at a time per session (an
asyncio.Lock): a second `send` waits and never cancels the probes of the first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.engine import listen, secrets, texts
from bot.engine.answers import (
    MAX_LINE,
    clean_line,
    is_greeting,
    parse_answer,
    parse_choice,
    parse_every,
    parse_yesno,
    repair_of,
)
from bot.engine.evidence import CustomerEvidence
from bot.engine.state import STATE_VERSION, ConversationState, Phase
from bot.engine.transcript import Role, Transcript, Turn
from bot.engine.values import BotMessage, Choice, Outcome, Question, Reply
from bot.engine.walk import STEP_LIMIT, FlowWalk
from bot.probes.model import ProbeObserver
from bot.probes.runners.base import LOCAL, ProbeCall
from bot.slots import SECRET_SLOTS

if TYPE_CHECKING:
    from bot.engine.core import Engine
    from bot.flows.model import Node
    from bot.matcher import MatchResult

log = logging.getLogger(__name__)

MAX_MISSES = 3
ANSWER_SCORE = 0.2  # an answer to "which of these?" scoring this for one offered flow ...
ANSWER_RATIO = 0.5  # ... with the next offered at most this share of it, chooses that flow


class Session(CustomerEvidence, FlowWalk):
    """One conversation. Create with `Engine.start` or `Engine.restore`."""

    def __init__(self, engine: Engine, context: Mapping[str, str]) -> None:
        self.engine = engine
        self._secrets = {k: v for k, v in context.items() if k in SECRET_SLOTS and v}
        self.context = {k: v for k, v in context.items() if k not in SECRET_SLOTS}
        self.state = ConversationState(slots=engine.normalize_context(self.context))
        self.forgot_secret = False  # this turn redacted an earlier line (stores erase copies)
        # Passwords written into a sentence ("my password is …"): in memory only, to scrub
        # them wherever they turn up again; never used for a login (no consent was asked).
        self._disclosed: set[str] = set()
        self._stated: set[str] = set()  # the slots the last line filled (bot.engine.listen)
        self._out: list[BotMessage] = []
        self._lock = asyncio.Lock()
        self._observer: ProbeObserver | None = None
        self._call: ProbeCall = LOCAL  # the context of this turn's probe calls

    # ------------------------------------------------------------------ public API

    @property
    def symptom(self) -> str | None:
        """The symptom being worked on (None until one is chosen)."""
        return self.flow_id

    @property
    def flows_hash(self) -> str:
        """Hash of the flow files this session runs on."""
        return self.engine.flows_hash

    async def open(self, *, call: ProbeCall = LOCAL) -> Reply:
        """The greeting; a context `message` is then handled as the first user line.
        `call`: the context of any probe this turn runs (the service's session and client)."""
        async with self._lock:
            if self.phase is not Phase.START:
                return self._reply()
            self.phase = Phase.DESCRIBE
            self._bot("text", texts.greeting(self.engine.vantage))
            message = self.context.get("message", "").strip()
            self._call = call
            try:
                if message:
                    await self._handle(message)
                else:
                    self._ask_describe(texts.DESCRIBE)
            finally:
                self._call = LOCAL
            return self._reply()

    async def send(self, text: str, observer: ProbeObserver | None = None, *,
                   call: ProbeCall = LOCAL) -> Reply:
        """Handle one user line; never raises for odd input (only EngineError for flow bugs).
        `call`: the context of any probe this turn runs (the service's session and client)."""
        async with self._lock:
            self._observer, self._call = observer, call
            # Cancelling a send (Ctrl-C while probes run) leaves the session as it was before.
            before, held = self.state.copy(), dict(self._secrets)
            disclosed = set(self._disclosed)
            try:
                if self.phase is Phase.START:
                    self.phase = Phase.DESCRIBE
                    self._bot("text", texts.greeting(self.engine.vantage))
                await self._handle(text)
            except asyncio.CancelledError:
                self.state, self._secrets, self._disclosed = before, held, disclosed
                self._out = []
                raise
            finally:
                self._observer, self._call = None, LOCAL
            return self._reply()

    async def finish(self, observer: ProbeObserver | None = None, *,
                     call: ProbeCall = LOCAL) -> Reply:
        """Input has ended: remaining questions count as "I don't know" until an outcome."""
        async with self._lock:
            self._observer, self._call = observer, call
            self.input_ended = True
            try:
                for _ in range(STEP_LIMIT):
                    if self.outcome is not None:
                        break
                    await self._finish_step()
            finally:
                self._observer, self._call = None, LOCAL
            return self._reply()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able state (no secrets); `Engine.restore` continues from it."""
        return {"version": STATE_VERSION, "flows_hash": self.engine.flows_hash,
                "context": dict(self.context), **self.state.to_json(),
                "forgot_secret": self.forgot_secret}

    def transcript(self) -> Transcript:
        """The conversation so far as a transcript (CONTRACT.md); no secret in it."""
        outcome = self.outcome or Outcome("incomplete", self.flow_id)
        return Transcript(
            turns=tuple(self.turns), outcome=outcome, flows_hash=self.engine.flows_hash,
            deskbot=__version__, symptom=outcome.symptom, context=dict(self.context),
            redacted=self._context_secrets(), input_ended=self.input_ended,
            vantage=self.engine.vantage, providers=self._providers(),
        )

    def held_secrets(self) -> tuple[str, ...]:
        """Secret values held in memory (for writers to scrub, never to write): the
        password given for the login test and any the customer wrote into a sentence."""
        return tuple(v for v in self._secrets.values() if v) + tuple(sorted(self._disclosed))

    def _context_secrets(self) -> tuple[str, ...]:
        # A secret known without any hidden answer in the turns came with the context (a help
        # desk's ticket, --answers): replay must pass it in again rather than expect a question.
        if any(t.redacted and not t.misplaced for t in self.turns):
            return ()
        return tuple(sorted(k for k, v in self._secrets.items() if v))

    def _providers(self) -> dict[str, dict[str, Any]]:
        """The catalogue's provider for each address of the conversation, by domain."""
        addresses = {self.context.get("email", ""), self.slots.get("email", "")}
        addresses |= {t.text.strip() for t in self.turns if t.role is Role.USER and t.text
                      and "@" in t.text and " " not in t.text.strip()}
        found: dict[str, dict[str, Any]] = {}
        for address in sorted(a for a in addresses if "@" in a):
            provider = self.engine.provider_for(address)
            if provider is not None:
                found[address.rpartition("@")[2].lower()] = provider.to_dict()
        return found

    def load_state(self, data: Mapping[str, Any]) -> None:
        """Take over a state saved by `to_dict` (used by `Engine.restore`); EngineError if not."""
        self.state = ConversationState.from_json(data)
        if self.current is not None:
            self.engine.compiled(self.current).node(self.node or "")

    # ------------------------------------------------------------------ one user line

    async def _handle(self, raw: str) -> None:
        secret = self.question is not None and self.question.secret and self.phase is Phase.FLOW
        self.forgot_secret = False
        told = False
        if not secret:
            raw, told = self._keep_out_disclosed(raw)
        text, cut = clean_line(raw)
        if not secret and secrets.matches(raw, [*self._secrets.values(), *self._disclosed]):
            # The password again, where no password was asked: never kept, never read.
            self.turns.append(Turn.misplaced_secret())
            self._bot("text", texts.SECRET_NOT_KEPT)
            self._reask()
            return
        if secret:
            self.turns.append(Turn.hidden())
        else:
            # Lone surrogates (undecodable input) cannot be written as UTF-8 later.
            kept = raw[: MAX_LINE + 1].encode("utf-8", "replace").decode("utf-8")
            self.turns.append(Turn.user(kept))
            if told:
                self._bot("text", texts.PASSWORD_IN_CHAT)
                if secrets.only_disclosure(text):  # nothing else in the line to read
                    self._reask()
                    return
        repair = repair_of(text) if not secret or len(text) < 30 else None
        if self.outcome is not None:
            await self._after_end(repair)
            return
        if cut:
            self._bot("text", texts.TRUNCATED.format(limit=MAX_LINE))
        if not text and not secret:
            # Empty lines count as misses: a customer who only presses Enter is offered a
            # person after MAX_MISSES, as after lines the bot cannot read.
            if self.phase is not Phase.OFFER_HUMAN and self._offered_after_miss():
                return
            self._bot("text", texts.EMPTY)
            self._reask()
            return
        if not secret and repair is None:
            self._hear(text)
        handlers = {Phase.DESCRIBE: self._on_describe, Phase.CLARIFY: self._on_clarify,
                    Phase.FLOW: self._on_flow, Phase.SWITCH: self._on_switch,
                    Phase.OFFER_HUMAN: self._on_offer_human}
        if repair in ("human", "restart"):
            await (self._handoff_now() if repair == "human" else self._restart())
            return
        if repair == "back":
            await self._go_back()
            return
        await handlers[self.phase](raw if secret else text, repair == "unknown")

    def _keep_out_disclosed(self, raw: str) -> tuple[str, bool]:
        """The line with any password it writes out replaced, and whether it wrote one out
        (the customer is then told not to). Earlier copies (a lone line, a ticket's message)
        go too."""
        found = secrets.disclosed(raw)
        if found is None:
            return raw, False
        self._disclosed.update(found.values)
        for value in found.values:
            if secrets.forget(value, self.turns, self.slots, self.history, self.context):
                self.forgot_secret = True
            for mapping in (self.slots, self.context):
                secrets.redact_within(mapping, value)
        return found.line, True

    def _hear(self, text: str) -> None:
        asked = self.question if self.question is not None and self.phase is Phase.FLOW else None
        self._stated = listen.hear(
            self.slots, text, self.engine.clients.aliases,
            asked.slot if asked else None, asked is not None and asked.type == "choice")

    async def _after_end(self, repair: str | None) -> None:
        if repair == "restart":
            await self._restart()
            return
        assert self.outcome is not None
        self._bot("text", texts.ENDED.format(status=self.outcome.status))

    async def _finish_step(self) -> None:
        if self.phase in (Phase.SWITCH, Phase.OFFER_HUMAN):  # unanswered offers count as "no"
            self.phase, self.state.back_to = self.state.back_to or Phase.FLOW, None
        if self.phase is Phase.CLARIFY and self.state.candidates:
            # an unanswered "which one?" counts as "I don't know": the first one offered
            await self._on_clarify("", unknown=True)
        elif self.phase is Phase.FLOW and self.node is not None:
            await self._take_unknown()
        else:
            self._bot("text", texts.ABANDONED)
            self._end("abandoned", None)

    # ------------------------------------------------------------------ phases

    async def _on_describe(self, text: str, unknown: bool) -> None:
        if unknown:
            self._ask_describe(texts.DESCRIBE_HELP)
            return
        if is_greeting(text):
            # a greeting tells no problem yet: it is answered, and counts like a line the bot
            # cannot use, so "hi" said over and over leads to the offer of a person too
            if not self._offered_after_miss():
                self._ask_describe(texts.GREETED)
            return
        await self._describe(text, self.engine.match(text))

    async def _describe(self, text: str, result: MatchResult) -> None:
        """Act on what the matcher made of the customer's description."""
        if result.decision in self.engine.flows:
            self.slots.setdefault("message", text)
            await self._start_flow(result.decision)
        elif result.decision == "clarify":
            self.slots.setdefault("message", text)
            ids = [c.id for c in result.candidates if c.id in self.engine.flows]
            self._ask_clarify(ids or sorted(self.engine.flows))
        elif result.language is not None:
            self._bot("text", texts.ENGLISH_ONLY.format(language=result.language))
            self._offer_human(texts.ENGLISH_OR_PERSON)
        else:
            self._miss_describe()

    def _miss_describe(self) -> None:
        if self._offered_after_miss():
            return
        self._ask_describe(texts.NOT_EMAIL.format(n=self.misses, max=MAX_MISSES))

    async def _on_clarify(self, text: str, unknown: bool) -> None:
        ids = list(self.state.candidates)
        if unknown and ids:
            await self._start_flow(ids[0])
            return
        if len(ids) == 2 and parse_every(text, 2):
            # "both" of the two troubles a line told ("... and also ..."): one at a time
            first, second = (self.engine.title(i) for i in ids)
            self._bot("text", texts.ONE_AT_A_TIME.format(first=first, second=second))
            await self._start_flow(ids[0])
            return
        choices = [(i, self.engine.title(i)) for i in ids] + [("other", texts.SOMETHING_ELSE)]
        value = parse_choice(text, choices)
        if value == "other":
            self.phase = Phase.DESCRIBE
            self._ask_describe(texts.DESCRIBE_AGAIN)
        elif value is not None:
            await self._start_flow(value)
        elif (chosen := self._chosen_by_words(text, ids)) is not None:
            await self._start_flow(chosen)
        else:
            self._miss()

    def _chosen_by_words(self, text: str, ids: list[str]) -> str | None:
        """The flow an answer to "which of these?" tells in its own words: the matcher's
        decision, or the one offered flow its words clearly speak for ("receiving", "the
        sending one": too little to start a flow alone, enough to choose among the offered)."""
        result = self.engine.match(text)
        if result.decision in self.engine.flows:
            return result.decision
        offered = [c for c in result.candidates if c.id in ids]
        if not offered or offered[0].score < ANSWER_SCORE:
            return None
        if len(offered) > 1 and offered[1].score > offered[0].score * ANSWER_RATIO:
            return None
        return offered[0].id

    async def _on_flow(self, text: str, unknown: bool) -> None:
        node = self._node()
        if unknown:
            await self._take_unknown()
            return
        value = parse_answer(node.type, text, node.choices, self.engine.clients)
        if value is None and (label := self._answered_ahead(node)) is not None:
            # "smtp.gmail.com" to "can you read me its outgoing server?": the line answers
            # the question that answer leads to; the walk skips it, its slot known now
            await self._advance(label)
            return
        if value is None:
            decision = self.engine.match(text).decision
            if decision in self.engine.flows and decision != self.flow_id:
                self._offer_switch(decision)
            else:
                self._miss()
            return
        self._fill(node, value)
        await self._advance(self._ask_label(node, value))

    def _answered_ahead(self, node: Node) -> str | None:
        """The answer to this question whose next question the line has answered already (its
        slot filled by what the line stated, bot.engine.listen), or None."""
        assert self.current is not None
        flow = self.engine.compiled(self.current)
        for label, target in node.on.items():
            ahead = flow.node(target)
            if ahead.kind == "ask" and ahead.slot != node.slot and ahead.slot in self._stated:
                return label
        return None

    async def _on_switch(self, text: str, unknown: bool) -> None:
        answer = "no" if unknown else parse_yesno(text)
        if answer is None:
            prompt = texts.SWITCH.format(title=self.engine.title(self.state.switch_to))
            self._bot("question", f"{texts.YES_OR_NO} {prompt}", question=_yesno("switch", prompt))
            return
        self.phase, to = Phase.FLOW, self.state.switch_to
        self.state.switch_to = None
        if answer == "yes" and to is not None:
            await self._start_flow(to)
        else:
            self._reask()

    async def _on_offer_human(self, text: str, unknown: bool) -> None:
        result = None if unknown or self.state.back_to is not Phase.DESCRIBE else (
            self.engine.match(text))
        if result is not None and result.decision != "none":
            # Before any flow, a line about e-mail is the problem told again ("I can't send
            # email" after the English-only reply), even with a "no" or "yes" in it: read it
            # as the description, not as the answer to the offer.
            self.misses = 0
            self.phase, self.state.back_to = Phase.DESCRIBE, None
            await self._describe(text, result)
            return
        answer = "no" if unknown else parse_yesno(text)
        if answer == "yes":
            await self._handoff_now()
            return
        self.misses = 0
        self.phase, self.state.back_to = self.state.back_to or Phase.FLOW, None
        if answer is None:
            self._bot("text", texts.CONTINUE_ANYWAY)
        self._reask()

    # ------------------------------------------------------------------ repair

    async def _take_unknown(self) -> None:
        node = self._node()
        self._bot("text", texts.TAKING_UNKNOWN)
        await self._advance(self._ask_label(node, None))

    async def _go_back(self) -> None:
        if self.phase is not Phase.FLOW or not self.history:
            self._bot("text", texts.CANNOT_GO_BACK)
            self._reask()
            return
        if self.question is not None and len(self.history) >= 2:
            self.history.pop()
        back = self.history.pop()
        self.current, self.node = back.current, back.node
        self.stack = list(back.stack)
        self.slots = dict(back.slots)
        self.evidence = self.evidence[: back.evidence]
        if back.secret:
            self._secrets.pop("password", None)
        self.phase, self.misses = Phase.FLOW, 0
        self._bot("text", texts.GOING_BACK)
        await self._visit()

    async def _restart(self) -> None:
        self.slots = self.engine.normalize_context(self.context)
        self.slots.pop("message", None)
        self.flow_id = self.current = self.node = None
        self.stack, self.evidence, self.history = [], [], []
        self.state.clear_offers()
        self.outcome, self.misses, self.phase = None, 0, Phase.DESCRIBE
        self._ask_describe(texts.RESTART)

    async def _handoff_now(self) -> None:
        self._handoff(texts.HUMAN_ASKED, reason="the customer asked for a person")

    def _offer_switch(self, symptom: str) -> None:
        self.phase = Phase.SWITCH
        self.state.switch_to = symptom
        prompt = texts.SWITCH.format(title=self.engine.title(symptom))
        self._bot("question", prompt, question=_yesno("switch", prompt))

    def _offer_human(self, prompt: str = texts.OFFER_HUMAN) -> None:
        self.state.back_to = self.phase
        self.phase = Phase.OFFER_HUMAN
        self._bot("question", prompt, question=_yesno("handoff", prompt))

    def _offered_after_miss(self) -> bool:
        """Count a line the bot cannot use; True when that was one too many and a person was
        offered instead."""
        self.misses += 1
        if self.misses >= MAX_MISSES:
            self._offer_human()
            return True
        return False

    def _miss(self) -> None:
        if self._offered_after_miss():
            return
        hint = texts.hint(self.question.type if self.question else "text")
        self._bot("text", texts.MISUNDERSTOOD.format(n=self.misses, max=MAX_MISSES, hint=hint))
        self._reask()

    def _reask(self) -> None:
        if self.phase is Phase.FLOW and self.node is not None:
            self._ask(self._node(), record=False)
        elif self.phase is Phase.CLARIFY:
            self._ask_clarify(list(self.state.candidates))
        elif self.phase is Phase.DESCRIBE:
            self._ask_describe(texts.DESCRIBE)
        elif self.question is not None:
            self._bot("question", self.question.prompt, question=self.question)


def _yesno(slot: str, prompt: str) -> Question:
    return Question(slot, "yesno", prompt, (Choice("yes", "Yes"), Choice("no", "No")))
