"""Walking a flow: nodes run until a question or an outcome; questions, turns and replies.

`FlowWalk` is the half of `Session` that moves through the shared machines; the other half
(`bot.engine.session`) reads the user's lines and handles repair. Kept apart only for size.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from bot.catalog.rules import RuleBook
from bot.diagnoses import parse
from bot.engine import compare, listen, secrets, texts
from bot.engine.answers import label_value, store_value
from bot.engine.handoff import (
    basis_of,
    build_package,
    evidence_codes,
    headline,
    problem_sides,
    proof,
)
from bot.engine.machine import Facts
from bot.engine.state import ConversationState, InState, Phase, Waypoint
from bot.engine.steer import Steering
from bot.engine.templates import TemplateContext
from bot.engine.transcript import Turn
from bot.engine.values import (
    BotMessage,
    Choice,
    MessageKind,
    Outcome,
    Question,
    Reply,
    SettingsRow,
    Status,
)
from bot.errors import EngineError, RunnerFault
from bot.flows.model import Node
from bot.probes.model import SETTINGS_FROM, ProbeObserver, ProbeReport
from bot.probes.runners import ProbeCall, fallback_outcome
from bot.slots import SECRET_SLOTS

if TYPE_CHECKING:
    from bot.engine.core import Engine

log = logging.getLogger(__name__)

STEP_LIMIT = 200  # node visits without asking the user


class FlowWalk:
    """The moves through a flow (the base of `Session`); the state is `self.state`."""

    engine: Engine
    state: ConversationState
    _secrets: dict[str, str]
    # Views of `state` (one typed object that is copied, saved and restored as a whole).
    slots = InState[dict[str, str]]()
    phase = InState[Phase]()
    flow_id = InState[str | None]()
    current = InState[str | None]()
    node = InState[str | None]()
    stack = InState[list[tuple[str, str]]]()
    evidence = InState[list[ProbeReport]]()
    turns = InState[list[Turn]]()
    outcome = InState[Outcome | None]()
    question = InState[Question | None]()
    misses = InState[int]()
    history = InState[list[Waypoint]]()
    input_ended = InState[bool]()
    forgot_secret: bool  # this turn redacted an earlier line (stores erase copies)
    context: dict[str, str]
    _out: list[BotMessage]
    _observer: ProbeObserver | None
    _call: ProbeCall

    # ------------------------------------------------------------------ walking a flow

    async def _start_flow(self, flow_id: str) -> None:
        self.flow_id, self.current, self.stack = flow_id, flow_id, []
        self.phase, self.misses = Phase.FLOW, 0
        self.state.clear_offers()
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
                value = self._known(node.slot) or self._implied(node.slot)
                if value is None:
                    self._ask(node)
                    return
                label = self._ask_label(node, value)
            elif node.kind == "say":
                self._bot("text", self._render(node.text))
                label = "next"
            elif node.kind == "probe":
                label = await self._probe(node)
                if self.outcome is not None:  # the runner broke its promise: handed off
                    return
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

    def _implied(self, slot: str) -> str | None:
        """An answer the provider's rule makes certain, kept as the slot's value: the incoming
        protocol of a provider that offers only one (iCloud: IMAP), so nobody is asked
        "POP3 or IMAP?" about it (issue 12)."""
        if slot != "incoming_protocol":
            return None
        traits = self.engine.provider_traits(self.slots.get("email"))
        only = next((p for p in ("imap", "pop3") if f"{p}_only" in traits), None)
        if only is not None:
            self.slots[slot] = only
        return only

    def _fill(self, node: Node, value: str) -> None:
        if node.slot in SECRET_SLOTS:
            self._secrets[node.slot] = value
            if secrets.forget(value, self.turns, self.slots, self.history, self.context):
                self.forgot_secret = True  # the next save must erase older copies
        else:
            self.slots[node.slot] = store_value(node.slot, node.type, value)

    async def _probe(self, node: Node) -> str:
        if node.text:
            self._bot("text", self._render(node.text))
        params = {**listen.probe_params(self.slots), **self._secrets}
        params.update({k: self._render(v) for k, v in node.params.items()})
        if hypotheses := self._steering().hypotheses(self.slots):
            params["hypotheses"] = ",".join(hypotheses)  # tested first (bot/engine/steer.py)
        params["vantage"] = self.engine.vantage
        if node.probe.startswith("check_") and self._adopts_catalogue():
            params[SETTINGS_FROM] = "catalogue"
        call = dataclasses.replace(self._call, vantage=self.engine.vantage)
        try:
            report = await self.engine.run_probe(node.probe, params, call, self._observer)
        except RunnerFault as fault:
            self._runner_fault(node, params, fault)
            return "inconclusive"
        report = self._record_probe(node, params, report, self.engine.vantage)
        return _probe_label(node, report)

    def _runner_fault(self, node: Node, params: dict[str, str], fault: RunnerFault) -> None:
        """A report that breaks its promise is no evidence: record the probe as inconclusive,
        with the fault as its note, and hand off (the agent's package names the fault)."""
        log.warning("flow %s node %s: %s", self.current, node.name, fault)
        report = ProbeReport(node.probe, params.get("email", ""), fallback_outcome(node.probe),
                             notes=(str(fault),))
        self._record_probe(node, params, report, self.engine.vantage)
        self._handoff(texts.RUNNER_FAULT, reason=f"probe runner fault: {fault}")

    def _adopts_catalogue(self) -> bool:
        """The conversation's flow shows the catalogue's settings as the customer's own."""
        flow = self.engine.flowset.flows.get(self.flow_id or "")
        return flow is not None and flow.adopts_catalogue

    def _record_probe(self, node: Node, params: dict[str, str], report: ProbeReport,
                      vantage: str) -> ProbeReport:
        """Keep a probe's report as evidence and as a turn (with where it ran and the call
        stack, so a check repeated from the customer's computer continues from here).
        Returns the evidence: the report, or the customer's pasted reply where the report
        could not decide (bot.engine.listen)."""
        report = dataclasses.replace(report, vantage=vantage)
        self.evidence.append(report)
        shown = {k: v for k, v in params.items() if k not in SECRET_SLOTS}
        self.turns.append(Turn.probe(report, shown, flow=self.current, node=node.name,
                                     vantage=vantage, stack=tuple(self.stack),
                                     login=bool(params.get("password"))))
        self._out.append(BotMessage("probe", _probe_line(report), evidence=(report,)))
        entry = listen.reply_decides(node.probe, report.outcome, self.slots, vantage,
                                     frozenset(node.on), "password" in self._secrets)
        if entry is not None:  # the probe could not decide; the customer's pasted reply does
            report = listen.as_reply_evidence(report, entry, self.slots.get(listen.QUOTE, ""))
            self.evidence[-1] = report
        elif report.outcome == "dns_unavailable" and vantage != "server" and (
                how := listen.reached_server(self.slots)):
            # The customer's app reached the server: our failed lookup is not their network.
            oauth = ("auth_oauth_required" in node.on and "relay" not in node.probe
                     and "oauth_only" in self.engine.provider_traits(self.slots.get("email")))
            report = listen.unseen_here(report, how, oauth)
            self.evidence[-1] = report
        return report

    def _resolve(self, node: Node) -> None:
        context = self._templates()
        text = context.render(node.text) if node.text else texts.RESOLVED_DEFAULT
        text = self._steering().shape(text, node.diagnosis, context.render)
        reply_based = any(r.facts.get("basis") == "reply" and r.outcome == node.diagnosis
                          for r in self.evidence)
        if lead := (listen.unseen_lead(self.evidence, self.slots)
                    or listen.lead(node.diagnosis, reply_based, self.slots)):
            text = f"{lead}\n\n{text}"
        rows = context.settings_rows(node.settings) if node.settings else ()
        text, rows = self._also_noticed(context, text, rows, node.diagnosis)
        # diagnoses.yaml: no evidence, no code. Even `ok` needs a probe that found every
        # check passing; an advice-only ending records no diagnosis (null).
        proven = node.diagnosis in evidence_codes(self.evidence)
        # A help desk's own code (its _diagnoses.yaml) rests on the customer's answers.
        proven = proven or node.diagnosis in self.engine.flowset.diagnoses
        if not proven and node.diagnosis != "ok":
            log.warning("flow %s node %s resolves %s without that evidence; not recorded",
                        self.current, node.name, node.diagnosis)
        diagnosis = node.diagnosis if proven else None
        self._end("resolved", diagnosis)
        self._bot("result", text, node=node.name, settings=rows, headline=headline(diagnosis),
                  proof=proof(self.evidence, diagnosis), outcome=self.outcome)

    def _also_noticed(self, context: TemplateContext, text: str, rows: tuple[SettingsRow, ...],
                      diagnosis: str | None = None) -> tuple[str, tuple[SettingsRow, ...]]:
        """The customer's settings against the catalogue: each difference the fix does not
        already name, as "also noticed", with the provider's table for that side."""
        found = compare.also_noticed(self.slots, context.provider, diagnosis)
        if not found or context.provider is None:
            return text, rows
        name = context.provider.short_name or context.provider.name
        text += "\n\n" + texts.ALSO_NOTICED.format(name=name) + "\n" + "\n".join(
            f"- {d.sentence}" for d in found)
        have = {row.side.lower() for row in rows}
        for side in dict.fromkeys(d.side for d in found):
            if side not in have:
                rows += context.settings_rows(side)
        return text, rows

    def _handoff(self, text: str, *, reason: str) -> None:
        context = self._templates()
        if lead := listen.unseen_lead(self.evidence, self.slots):
            text = f"{lead}\n\n{text}"
        text, noticed = self._also_noticed(context, text, ())
        # a table shows the side(s) of the problem (an outbox conversation: outgoing), not
        # only the side a difference was noticed on (a username is compared on incoming)
        sides = problem_sides(self.flow_id, lambda f: self.engine.compiled(f).flow,
                              self.evidence) if noticed else ()
        rows = tuple(r for s in sides for r in context.settings_rows(s)) or noticed
        package = build_package(self.flow_id, reason, self.slots, self.evidence)
        self._end("handoff", None)
        # The provider's table is a typed part, as in a resolved answer (plain.py lays it out
        # after the words and before the tail; the web page and the terminal draw it).
        self._bot("handoff", f"{text}\n\n{texts.HANDOFF_TAIL}".strip(), handoff=package,
                  outcome=self.outcome, settings=rows or None)

    def _end(self, status: Status, diagnosis: str | None) -> None:
        basis = basis_of(diagnosis, self.evidence)
        if basis is None and diagnosis is not None:  # a help desk's own code: as declared
            basis = self.engine.flowset.bases.get(diagnosis)
        self.outcome = Outcome(status, self.flow_id, diagnosis, basis)
        self.phase, self.question = Phase.DONE, None
        self.state.clear_offers()

    # ------------------------------------------------------------------ questions

    def _ask(self, node: Node, *, record: bool = True) -> None:
        choices = tuple(Choice(v, label) for v, label in node.choices)
        prompt = listen.confirm_prompt(node.slot, self.slots) or self._render(node.prompt)
        question = Question(node.slot, node.type, prompt, choices, node.type == "secret")
        assert self.current is not None
        if record and (not self.history or self.history[-1].node != node.name
                       or self.history[-1].current != self.current):
            self.history.append(Waypoint(self.current, node.name, tuple(self.stack),
                                         dict(self.slots), len(self.evidence),
                                         node.type == "secret"))
        self.phase = Phase.FLOW
        self._bot("question", prompt, node=node.name, question=question)

    def _ask_describe(self, prompt: str) -> None:
        self.phase = Phase.DESCRIBE
        question = Question("message", "text", prompt)
        self._bot("question", prompt, question=question)

    def _ask_clarify(self, ids: list[str]) -> None:
        self.phase = Phase.CLARIFY
        self.state.candidates = ids
        choices = tuple(Choice(i, self.engine.title(i)) for i in ids)
        choices += (Choice("other", texts.SOMETHING_ELSE),)
        question = Question("symptom", "choice", texts.CLARIFY, choices)
        self._bot("question", texts.CLARIFY, question=question)

    # ------------------------------------------------------------------ helpers

    def _node(self) -> Node:
        if self.current is None or self.node is None:
            raise EngineError("the session is not inside a flow")
        return self.engine.compiled(self.current).node(self.node)

    def _facts(self) -> Facts:
        known = {**self.slots, **{k: "(given)" for k in self._secrets}}
        return Facts(known, evidence_codes(self.evidence), self.engine.vantage,
                     self.engine.provider_traits(self.slots.get("email")))

    def _steering(self) -> Steering:
        """What the customer stated, for this flow and this provider's login rule."""
        return Steering.of(self.slots, self.flow_id, self._app_password_rule())

    def _app_password_rule(self) -> str | None:
        """The provider rule's `login.app_password` (always|with_2sv|never), or None."""
        for report in reversed(self.evidence):
            if "app_password" in report.facts:
                return report.facts["app_password"]
        email = self.slots.get("email", "")
        if "@" not in email:
            return None
        provider = self.engine.provider_for(email)
        rule = RuleBook.load().for_address(email, provider.id if provider else None)
        return rule.login.app_password if rule is not None else None

    def _templates(self) -> TemplateContext:
        provider = next((r.provider for r in reversed(self.evidence) if r.provider), None)
        if provider is None and self.slots.get("email"):
            provider = self.engine.provider_for(self.slots["email"])
        if provider is None and not self.slots.get("email"):
            provider = self.engine.provider_stated(self.slots)
        title = self.engine.title(self.flow_id) if self.flow_id else ""
        return TemplateContext(self.slots, provider, self.evidence, self.engine.clients,
                               title, self.flow_id or "")

    def _render(self, text: str) -> str:
        return self._templates().render(text)

    def _bot(self, kind: MessageKind, body: str, *, node: str | None = None,
             question: Question | None = None, **parts: Any) -> None:
        """Say one message (`parts`: the other fields of BotMessage) and record its turn."""
        in_flow = self.phase is Phase.FLOW or kind in ("result", "handoff")
        flow = self.current if in_flow else None
        node = node or (self.node if flow else None)
        if question is not None:
            self.question = question
        message = BotMessage(kind, body, question=question, **parts)
        self.turns.append(Turn.bot(message.text, kind, flow, node))
        self._out.append(message)

    def _reply(self) -> Reply:
        messages, self._out = self._out, []
        waiting = None if self.outcome is not None else self.question
        return Reply(messages, self.outcome, waiting)

def _probe_label(node: Node, report: ProbeReport) -> str:
    if report.outcome in node.on:
        return report.outcome
    # A runner may report an outcome the registry does not list: take the catch-all.
    return next((k for k in ("other", "inconclusive", "not_found") if k in node.on),
                report.outcome)


# What each check tests, in the customer's words (the probe message's text).
_PROBE_WORDS = {"check_outgoing": "sending", "check_incoming": "receiving",
                "check_relay": "sending without a login"}


def _probe_line(report: ProbeReport) -> str:
    """The probe message's text in plain words (a page without check rows shows only this):
    what was tested, what it found, how many checks passed; never raw codes."""
    what = _PROBE_WORDS.get(report.name, report.name.replace("_", " "))
    if report.checks and all(c.probe == "policy" for c in report.checks):
        # the target is an address when no server was named yet: its domain's servers
        targets = ", ".join(dict.fromkeys(
            f"{c.target.rpartition('@')[2]}'s mail servers" if "@" in c.target else c.target
            for c in report.checks))
        return (f"I could not test {what} from the help desk's server: it is not allowed to "
                f"connect to {targets}.")
    found = parse(report.outcome)  # None for inconclusive (and recommended_ok)
    result = found.headline if found else "no single cause found"
    passed = sum(c.status == "ok" for c in report.checks)
    failed = sum(c.status == "fail" for c in report.checks)
    return (f"I tested {what}: {result} ({passed} checks passed, {failed} failed)"
            if report.checks else f"I tested {what}: {result}")
