"""A conversation: plain serialisable state driven through the shared flow machines.

Phases: `describe` (waiting for the problem), `clarify` (which of these?), `flow` (at an ask
node), `switch` (offered another symptom), `offer_human` (after three misunderstandings),
`done`. Repair ("I don't know", "go back", "start over", "talk to a person") works in every
phase. One message is handled at a time per session (an asyncio.Lock): a second `send` waits
and never cancels the probes of the first.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.engine import texts
from bot.engine.answers import (
    MAX_LINE,
    clean_line,
    label_value,
    parse_answer,
    parse_choice,
    parse_yesno,
    repair_of,
    store_value,
)
from bot.engine.handoff import build_package, evidence_codes
from bot.engine.machine import Facts
from bot.engine.templates import TemplateContext, settings_table
from bot.engine.values import BotMessage, Choice, Outcome, Question, Reply, Status
from bot.errors import EngineError
from bot.flows.model import Node
from bot.probes.model import ProbeObserver, ProbeReport
from bot.slots import SECRET_SLOTS

if TYPE_CHECKING:
    from bot.engine.core import Engine

log = logging.getLogger(__name__)

STATE_VERSION = 1
_STATE_ATTRIBUTES = (
    "slots", "phase", "flow_id", "current", "node", "stack", "evidence", "turns", "outcome",
    "question", "misses", "history", "pending", "input_ended", "_secrets",
)
STEP_LIMIT = 200  # node visits without asking the user
MAX_MISSES = 3


class Session:
    """One conversation. Create with `Engine.start` or `Engine.restore`."""

    def __init__(self, engine: Engine, context: Mapping[str, str]) -> None:
        self.engine = engine
        self._secrets = {k: v for k, v in context.items() if k in SECRET_SLOTS and v}
        self.context = {k: v for k, v in context.items() if k not in SECRET_SLOTS}
        self.slots: dict[str, str] = engine.normalize_context(self.context)
        self.phase = "start"
        self.flow_id: str | None = None  # the symptom's flow
        self.current: str | None = None  # flow or sub-flow the node belongs to
        self.node: str | None = None
        self.stack: list[tuple[str, str]] = []  # (flow, call node) to return to
        self.evidence: list[ProbeReport] = []
        self.turns: list[dict[str, Any]] = []
        self.outcome: Outcome | None = None
        self.question: Question | None = None
        self.misses = 0
        self.history: list[dict[str, Any]] = []
        self.pending: dict[str, Any] = {}
        self.input_ended = False
        self._out: list[BotMessage] = []
        self._lock = asyncio.Lock()
        self._observer: ProbeObserver | None = None

    # ------------------------------------------------------------------ public API

    @property
    def symptom(self) -> str | None:
        """The symptom being worked on (None until one is chosen)."""
        return self.flow_id

    @property
    def flows_hash(self) -> str:
        """Hash of the flow files this session runs on."""
        return self.engine.flows_hash

    async def open(self) -> Reply:
        """The greeting; a context `message` is then handled as the first user line."""
        async with self._lock:
            if self.phase != "start":
                return self._reply()
            self.phase = "describe"
            self._bot("text", texts.greeting(self.engine.vantage))
            message = self.context.get("message", "").strip()
            if message:
                await self._handle(message)
            else:
                self._ask_describe(texts.DESCRIBE)
            return self._reply()

    async def send(self, text: str, observer: ProbeObserver | None = None) -> Reply:
        """Handle one user line; never raises for odd input (only EngineError for flow bugs)."""
        async with self._lock:
            self._observer = observer
            # Cancelling a send (Ctrl-C while probes run) leaves the session as it was before.
            before = self._snapshot()
            try:
                if self.phase == "start":
                    self.phase = "describe"
                    self._bot("text", texts.greeting(self.engine.vantage))
                await self._handle(text)
            except asyncio.CancelledError:
                vars(self).update(before)
                self._out = []
                raise
            finally:
                self._observer = None
            return self._reply()

    async def finish(self, observer: ProbeObserver | None = None) -> Reply:
        """Input has ended: remaining questions count as "I don't know" until an outcome."""
        async with self._lock:
            self._observer = observer
            self.input_ended = True
            try:
                for _ in range(STEP_LIMIT):
                    if self.outcome is not None:
                        break
                    await self._finish_step()
            finally:
                self._observer = None
            return self._reply()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able state (no secrets); `Engine.restore` continues from it."""
        return {
            "version": STATE_VERSION, "flows_hash": self.engine.flows_hash,
            "context": dict(self.context), "slots": dict(self.slots), "phase": self.phase,
            "flow": self.flow_id, "current": self.current, "node": self.node,
            "stack": [list(s) for s in self.stack],
            "evidence": [r.to_dict() for r in self.evidence], "turns": list(self.turns),
            "outcome": self.outcome.to_dict() if self.outcome else None,
            "question": _question_dict(self.question), "misses": self.misses,
            "history": list(self.history), "pending": dict(self.pending),
            "input_ended": self.input_ended,
        }

    def _snapshot(self) -> dict[str, Any]:
        """A cheap copy of the mutable state (lists and dicts copied one level deep)."""
        return {name: copy.copy(vars(self)[name]) for name in _STATE_ATTRIBUTES}

    def load_state(self, data: Mapping[str, Any]) -> None:
        """Take over a state saved by `to_dict` (used by `Engine.restore`)."""
        if data.get("version") != STATE_VERSION:
            raise EngineError(f"saved session has version {data.get('version')!r}, "
                              f"this deskbot reads {STATE_VERSION}")
        self.slots = dict(data["slots"])
        self.phase, self.flow_id = data["phase"], data.get("flow")
        self.current, self.node = data.get("current"), data.get("node")
        self.stack = [(str(f), str(n)) for f, n in data.get("stack", ())]
        self.evidence = [ProbeReport.from_dict(r) for r in data.get("evidence", ())]
        self.turns = [dict(t) for t in data.get("turns", ())]
        self.outcome = Outcome.from_dict(data["outcome"]) if data.get("outcome") else None
        self.question = _question_from(data.get("question"))
        self.misses = int(data.get("misses", 0))
        self.history = [dict(h) for h in data.get("history", ())]
        self.pending = dict(data.get("pending", {}))
        self.input_ended = bool(data.get("input_ended", False))
        if self.current is not None:
            self.engine.compiled(self.current).node(self.node or "")

    # ------------------------------------------------------------------ one user line

    async def _handle(self, raw: str) -> None:
        secret = self.question is not None and self.question.secret and self.phase == "flow"
        text, cut = clean_line(raw)
        if secret:
            self.turns.append({"role": "user", "text": None, "redacted": True})
        else:
            self.turns.append({"role": "user", "text": raw[: MAX_LINE + 1]})
        repair = repair_of(text) if not secret or len(text) < 30 else None
        if self.outcome is not None:
            await self._after_end(repair)
            return
        if cut:
            self._bot("text", texts.TRUNCATED.format(limit=MAX_LINE))
        if not text and not secret:
            self._bot("text", texts.EMPTY)
            self._reask()
            return
        handlers = {"describe": self._on_describe, "clarify": self._on_clarify,
                    "flow": self._on_flow, "switch": self._on_switch,
                    "offer_human": self._on_offer_human}
        if repair in ("human", "restart"):
            await (self._handoff_now() if repair == "human" else self._restart())
            return
        if repair == "back":
            await self._go_back()
            return
        await handlers[self.phase](raw if secret else text, repair == "unknown")

    async def _after_end(self, repair: str | None) -> None:
        if repair == "restart":
            await self._restart()
            return
        assert self.outcome is not None
        self._bot("text", texts.ENDED.format(status=self.outcome.status))

    async def _finish_step(self) -> None:
        if self.phase in ("describe", "clarify", "start"):
            self._bot("text", texts.ABANDONED)
            self._end("abandoned", None)
        elif self.phase in ("switch", "offer_human"):
            self.phase = "flow"
            await self._take_unknown()
        else:
            await self._take_unknown()

    # ------------------------------------------------------------------ phases

    async def _on_describe(self, text: str, unknown: bool) -> None:
        if unknown:
            self._ask_describe(texts.DESCRIBE_HELP)
            return
        result = self.engine.match(text)
        if result.decision in self.engine.flows:
            self.slots.setdefault("message", text)
            await self._start_flow(result.decision)
        elif result.decision == "clarify":
            self.slots.setdefault("message", text)
            ids = [c.id for c in result.candidates if c.id in self.engine.flows]
            self._ask_clarify(ids or sorted(self.engine.flows))
        else:
            self._miss_describe()

    def _miss_describe(self) -> None:
        self.misses += 1
        if self.misses >= MAX_MISSES:
            self._offer_human()
            return
        self._ask_describe(texts.NOT_EMAIL.format(n=self.misses, max=MAX_MISSES))

    async def _on_clarify(self, text: str, unknown: bool) -> None:
        ids: list[str] = list(self.pending.get("candidates", ()))
        if unknown and ids:
            await self._start_flow(ids[0])
            return
        choices = [(i, self.engine.title(i)) for i in ids] + [("other", texts.SOMETHING_ELSE)]
        value = parse_choice(text, choices)
        if value == "other":
            self.phase = "describe"
            self._ask_describe(texts.DESCRIBE_AGAIN)
        elif value is not None:
            await self._start_flow(value)
        elif (decision := self.engine.match(text).decision) in self.engine.flows:
            await self._start_flow(decision)
        else:
            self._miss()

    async def _on_flow(self, text: str, unknown: bool) -> None:
        node = self._node()
        if unknown:
            await self._take_unknown()
            return
        value = parse_answer(node.type, text, node.choices, self.engine.clients)
        if value is None:
            decision = self.engine.match(text).decision
            if decision in self.engine.flows and decision != self.flow_id:
                self._offer_switch(decision)
            else:
                self._miss()
            return
        self._fill(node, value)
        await self._advance(self._ask_label(node, value))

    async def _on_switch(self, text: str, unknown: bool) -> None:
        answer = "no" if unknown else parse_yesno(text)
        if answer is None:
            prompt = texts.SWITCH.format(title=self.engine.title(self.pending["to"]))
            self._bot("question", f"{texts.YES_OR_NO} {prompt}", question=_yesno("switch", prompt))
            return
        self.phase = "flow"
        if answer == "yes":
            await self._start_flow(str(self.pending.pop("to")))
        else:
            self._reask()

    async def _on_offer_human(self, text: str, unknown: bool) -> None:
        answer = "no" if unknown else parse_yesno(text)
        if answer == "yes":
            await self._handoff_now()
            return
        self.misses = 0
        self.phase = str(self.pending.pop("back_to", "flow"))
        if answer is None:
            self._bot("text", texts.CONTINUE_ANYWAY)
        self._reask()

    # ------------------------------------------------------------------ repair

    async def _take_unknown(self) -> None:
        node = self._node()
        self._bot("text", texts.TAKING_UNKNOWN)
        await self._advance(self._ask_label(node, None))

    async def _go_back(self) -> None:
        if self.phase != "flow" or not self.history:
            self._bot("text", texts.CANNOT_GO_BACK)
            self._reask()
            return
        if self.question is not None and len(self.history) >= 2 and self.phase == "flow":
            self.history.pop()
        snap = self.history.pop()
        self.current, self.node = snap["current"], snap["node"]
        self.stack = [(str(f), str(n)) for f, n in snap["stack"]]
        self.slots = dict(snap["slots"])
        self.evidence = self.evidence[: snap["evidence"]]
        if snap.get("secret"):
            self._secrets.pop("password", None)
        self.phase, self.misses = "flow", 0
        self._bot("text", texts.GOING_BACK)
        await self._visit()

    async def _restart(self) -> None:
        self.slots = self.engine.normalize_context(self.context)
        self.slots.pop("message", None)
        self.flow_id = self.current = self.node = None
        self.stack, self.evidence, self.history, self.pending = [], [], [], {}
        self.outcome, self.misses, self.phase = None, 0, "describe"
        self._ask_describe(texts.RESTART)

    async def _handoff_now(self) -> None:
        self._handoff(texts.HUMAN_ASKED, reason="the customer asked for a person")

    def _offer_switch(self, symptom: str) -> None:
        self.phase = "switch"
        self.pending["to"] = symptom
        prompt = texts.SWITCH.format(title=self.engine.title(symptom))
        self._bot("question", prompt, question=_yesno("switch", prompt))

    def _offer_human(self) -> None:
        self.pending["back_to"] = self.phase
        self.phase = "offer_human"
        self._bot("question", texts.OFFER_HUMAN, question=_yesno("handoff", texts.OFFER_HUMAN))

    def _miss(self) -> None:
        self.misses += 1
        if self.misses >= MAX_MISSES:
            self._offer_human()
            return
        hint = texts.hint(self.question.type if self.question else "text")
        self._bot("text", texts.MISUNDERSTOOD.format(n=self.misses, max=MAX_MISSES, hint=hint))
        self._reask()

    def _reask(self) -> None:
        if self.phase == "flow" and self.node is not None:
            self._ask(self._node(), record=False)
        elif self.phase == "clarify":
            self._ask_clarify(list(self.pending.get("candidates", ())))
        elif self.phase == "describe":
            self._ask_describe(texts.DESCRIBE)
        elif self.question is not None:
            self._bot("question", self.question.prompt, question=self.question)

    # ------------------------------------------------------------------ walking a flow

    async def _start_flow(self, flow_id: str) -> None:
        self.flow_id, self.current, self.stack = flow_id, flow_id, []
        self.phase, self.misses, self.pending = "flow", 0, {}
        compiled = self.engine.compiled(flow_id)
        self.node = compiled.flow.start
        self._bot("text", texts.STARTING.format(title=compiled.flow.title))
        await self._visit()

    async def _advance(self, label: str | None) -> None:
        assert self.current is not None and self.node is not None
        self.node = self.engine.compiled(self.current).step(self.node, self._facts(), label)
        await self._visit()

    async def _visit(self) -> None:
        """Run nodes from the current one until a question or an outcome."""
        for _ in range(STEP_LIMIT):
            node = self._node()
            label: str | None
            if node.kind == "ask":
                value = self._known(node.slot)
                if value is None:
                    self._ask(node)
                    return
                label = self._ask_label(node, value)
            elif node.kind == "say":
                self._bot("text", self._render(node.text))
                label = "next"
            elif node.kind == "probe":
                label = await self._probe(node)
            elif node.kind == "branch":
                label = None
            elif node.kind in ("resolve", "handoff"):
                self._resolve(node) if node.kind == "resolve" else self._handoff(
                    self._render(node.text), reason=self._render(node.text))
                return
            elif node.kind == "call":
                assert self.current is not None
                self.stack.append((self.current, node.name))
                self.current = node.subflow
                self.node = self.engine.compiled(node.subflow).flow.start
                continue
            else:  # return: go on from the call node in the caller
                if not self.stack:
                    raise EngineError(f"flow '{self.current}' returns without a caller",
                                      flow_id=self.current, node=node.name)
                self.current, self.node = self.stack.pop()
                label = "next"
            assert self.current is not None and self.node is not None
            origin = self.node
            self.node = self.engine.compiled(self.current).step(origin, self._facts(), label)
        raise EngineError(
            f"flow '{self.current}' ran {STEP_LIMIT} steps without asking the user "
            f"(last at node '{self.node}')", flow_id=self.current, node=self.node)

    def _ask_label(self, node: Node, value: str | None) -> str:
        if value is not None:
            label = label_value(node.type, value)
            if label in node.on:
                return label
            if node.next is not None:
                return "next"
        if "unknown" in node.on:
            return "unknown"
        if node.type == "yesno" and "no" in node.on:
            return "no"  # "not sure" is never consent
        if node.next is not None:
            return "next"
        raise EngineError(f"flow '{self.current}': node '{node.name}' has nowhere to go for "
                          f"{value!r}", flow_id=self.current, node=node.name)

    def _known(self, slot: str) -> str | None:
        return self._secrets.get(slot) if slot in SECRET_SLOTS else self.slots.get(slot)

    def _fill(self, node: Node, value: str) -> None:
        if node.slot in SECRET_SLOTS:
            self._secrets[node.slot] = value
        else:
            self.slots[node.slot] = store_value(node.slot, node.type, value)

    async def _probe(self, node: Node) -> str:
        if node.text:
            self._bot("text", self._render(node.text))
        params = {**self.slots, **self._secrets}
        params.update({k: self._render(v) for k, v in node.params.items()})
        params["vantage"] = self.engine.vantage
        report = await self.engine.run_probe(node.probe, params, self._observer)
        self.evidence.append(report)
        shown = {k: v for k, v in params.items() if k not in SECRET_SLOTS}
        self.turns.append({"role": "probe", "name": node.probe, "target": report.target,
                           "params": shown, "report": report.to_dict(),
                           "flow": self.current, "node": node.name})
        self._out.append(BotMessage("probe", _probe_line(report), evidence=(report,)))
        if report.outcome in node.on:
            return report.outcome
        # A runner may report an outcome the registry does not list: take the catch-all.
        return next((k for k in ("other", "inconclusive", "not_found") if k in node.on),
                    report.outcome)

    def _resolve(self, node: Node) -> None:
        context = self._templates()
        text = context.render(node.text) if node.text else texts.RESOLVED_DEFAULT
        rows = context.settings_rows(node.settings) if node.settings else ()
        if rows:
            text += "\n\n" + texts.SETTINGS_HEADER + "\n" + settings_table(rows)
        proven = node.diagnosis == "ok" or node.diagnosis in evidence_codes(self.evidence)
        if not proven:
            log.warning("flow %s node %s resolves %s without that evidence; not recorded",
                        self.current, node.name, node.diagnosis)
        self._bot("result", text, node=node.name, settings=rows)
        self._end("resolved", node.diagnosis if proven else None)

    def _handoff(self, text: str, *, reason: str) -> None:
        package = build_package(self.flow_id, reason, self.slots, self.evidence)
        self._bot("handoff", f"{text}\n\n{texts.HANDOFF_TAIL}".strip(), handoff=package)
        self._end("handoff", None)

    def _end(self, status: Status, diagnosis: str | None) -> None:
        self.outcome = Outcome(status, self.flow_id, diagnosis)
        self.phase, self.question, self.pending = "done", None, {}

    # ------------------------------------------------------------------ questions

    def _ask(self, node: Node, *, record: bool = True) -> None:
        choices = tuple(Choice(v, label) for v, label in node.choices)
        prompt = self._render(node.prompt)
        question = Question(node.slot, node.type, prompt, choices, node.type == "secret")
        if record and (not self.history or self.history[-1]["node"] != node.name
                       or self.history[-1]["current"] != self.current):
            self.history.append({
                "current": self.current, "node": node.name,
                "stack": [list(s) for s in self.stack], "slots": dict(self.slots),
                "evidence": len(self.evidence), "secret": node.type == "secret",
            })
        self.phase = "flow"
        self._bot("question", texts.with_choices(prompt, choices), node=node.name,
                  question=question)

    def _ask_describe(self, prompt: str) -> None:
        self.phase = "describe"
        question = Question("message", "text", prompt)
        self._bot("question", prompt, question=question)

    def _ask_clarify(self, ids: list[str]) -> None:
        self.phase = "clarify"
        self.pending["candidates"] = ids
        choices = tuple(Choice(i, self.engine.title(i)) for i in ids)
        choices += (Choice("other", texts.SOMETHING_ELSE),)
        question = Question("symptom", "choice", texts.CLARIFY, choices)
        self._bot("question", texts.with_choices(texts.CLARIFY, choices), question=question)

    # ------------------------------------------------------------------ helpers

    def _node(self) -> Node:
        if self.current is None or self.node is None:
            raise EngineError("the session is not inside a flow")
        return self.engine.compiled(self.current).node(self.node)

    def _facts(self) -> Facts:
        known = {**self.slots, **{k: "(given)" for k in self._secrets}}
        return Facts(known, evidence_codes(self.evidence), self.engine.vantage)

    def _templates(self) -> TemplateContext:
        provider = next((r.provider for r in reversed(self.evidence) if r.provider), None)
        if provider is None and self.slots.get("email"):
            provider = self.engine.provider_for(self.slots["email"])
        title = self.engine.title(self.flow_id) if self.flow_id else ""
        return TemplateContext(self.slots, provider, self.evidence, self.engine.clients,
                               title, self.flow_id or "")

    def _render(self, text: str) -> str:
        return self._templates().render(text)

    def _bot(self, kind: str, text: str, *, node: str | None = None, **extra: Any) -> None:
        in_flow = self.phase == "flow" or kind in ("result", "handoff")
        flow = self.current if in_flow else None
        node = node or (self.node if flow else None)
        self.turns.append({"role": "bot", "text": text, "kind": kind, "flow": flow, "node": node})
        question = extra.pop("question", None)
        if question is not None:
            self.question = question
        self._out.append(BotMessage(kind, text, question=question, **extra))  # type: ignore[arg-type]

    def _reply(self) -> Reply:
        messages, self._out = self._out, []
        waiting = None if self.outcome is not None else self.question
        return Reply(messages, self.outcome, waiting)


def _yesno(slot: str, prompt: str) -> Question:
    return Question(slot, "yesno", prompt, (Choice("yes", "Yes"), Choice("no", "No")))


def _probe_line(report: ProbeReport) -> str:
    checks = ", ".join(f"{c.probe} {c.target} {c.status}" for c in report.checks)
    return f"{report.name} → {report.outcome}" + (f" ({checks})" if checks else "")


def _question_dict(question: Question | None) -> dict[str, Any] | None:
    if question is None:
        return None
    return {"slot": question.slot, "type": question.type, "prompt": question.prompt,
            "choices": [[c.value, c.label] for c in question.choices], "secret": question.secret}


def _question_from(data: Mapping[str, Any] | None) -> Question | None:
    if not data:
        return None
    choices = tuple(Choice(str(v), str(label)) for v, label in data.get("choices", ()))
    return Question(data["slot"], data["type"], data["prompt"], choices, bool(data["secret"]))

