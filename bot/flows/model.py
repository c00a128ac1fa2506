"""Flow files as values: nodes, flows, sub-flows and per-client steps (docs/flow-language.md).

Pure data: built by `bot.flows.loader`, checked by `bot.flows.validate`, run by `bot.engine`.
Every element remembers the file and line it came from so each problem is `FILE:LINE: ...`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.diagnoses import Basis

NodeKind = Literal["ask", "say", "probe", "branch", "resolve", "handoff", "call", "return"]
NODE_KINDS: tuple[NodeKind, ...] = (
    "ask", "say", "probe", "branch", "resolve", "handoff", "call", "return",
)
ASK_TYPES: frozenset[str] = frozenset(
    {"text", "email", "yesno", "choice", "host", "port", "security", "protocol", "client", "secret"}
)
STEP_TOPICS: frozenset[str] = frozenset(
    {
        "outgoing_settings", "incoming_settings", "password", "leave_copy", "account_setup",
        "security", "certificate", "mailbox_cleanup", "ipv6", "oauth_signin",
    }
)
SETTINGS_TABLES: frozenset[str] = frozenset({"outgoing", "incoming", "both"})
# Condition keys of a branch `when:` that are not slot names.
CONDITION_KEYS: frozenset[str] = frozenset(
    {"known", "unknown", "evidence", "vantage", "provider"})

_EMPTY: Mapping[str, Any] = {}  # read-only by convention
# `{name}` or `{name|text shown when name has no value}` in flow and step texts
PLACEHOLDER = re.compile(r"\{([^{}\s|]*)(?:\|([^{}]*))?\}")


@dataclass(frozen=True)
class Rule:
    """One `when:`/`goto:` entry of a branch (`when` empty for the final `else`)."""

    when: Mapping[str, tuple[str, ...]]
    goto: str
    line: int
    is_else: bool = False


@dataclass(frozen=True)
class Node:
    """One node of a flow; which fields matter depends on `kind`."""

    name: str
    kind: NodeKind
    line: int
    slot: str = ""  # ask: the slot it fills
    type: str = "text"  # ask: answer type
    prompt: str = ""  # ask
    choices: tuple[tuple[str, str], ...] = ()  # ask/choice: (value, label)
    on: Mapping[str, str] = field(default_factory=dict)  # ask/probe: answer value or outcome → node
    next: str | None = None  # ask/say/call: where to go next
    text: str = ""  # say / probe's optional say / resolve's say / handoff's message
    probe: str = ""  # probe: registry name
    params: Mapping[str, str] = field(default_factory=dict)  # probe/call: `with:` (templates)
    rules: tuple[Rule, ...] = ()  # branch
    diagnosis: str = ""  # resolve
    settings: str | None = None  # resolve: outgoing | incoming | both
    subflow: str = ""  # call
    lines: Mapping[str, int] = field(default_factory=dict)  # key → line, for precise messages

    def line_of(self, key: str) -> int:
        """The line of one key of this node (the node's own line when unknown)."""
        return self.lines.get(key, self.line)

    def edges(self) -> tuple[tuple[str, str], ...]:
        """Every (label, target) this node can go to, in the engine's order of preference."""
        out: list[tuple[str, str]] = [(label, dest) for label, dest in self.on.items()]
        if self.kind == "branch":
            out = [("else" if r.is_else else f"rule{i}", r.goto) for i, r in enumerate(self.rules)]
        if self.next is not None:
            out.append(("next", self.next))
        return tuple(out)

    @property
    def terminal(self) -> bool:
        """True for nodes that end the conversation or the sub-flow."""
        return self.kind in ("resolve", "handoff", "return")


@dataclass(frozen=True)
class Flow:
    """One flow (a symptom's decision tree) or sub-flow (`subflow:` files)."""

    id: str
    title: str
    file: str
    line: int
    start: str
    nodes: Mapping[str, Node]
    is_subflow: bool = False
    match: Mapping[str, Any] = field(default_factory=dict)
    match_line: int = 0
    slots: frozenset[str] = frozenset()  # flow-local slot names declared in `slots:`
    lines: Mapping[str, int] = field(default_factory=dict)  # top-level key → line
    # sub-flow `params:`: parameter → allowed value → words `{param.word}` stands for
    params: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    # `adopts_catalogue: true`: the flow shows the catalogue's settings as the ones the customer
    # will use (account setup), so probing them tests the customer's own settings (an `ok`)
    adopts_catalogue: bool = False


@dataclass(frozen=True)
class ClientSteps:
    """flows/_clients.yaml: click paths per mail client and topic, and free-text aliases."""

    # client key → topic → text
    steps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # lower-case free text → client key
    labels: Mapping[str, str] = field(default_factory=dict)  # client key → display name
    file: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)  # "client.topic" → line
    # "client.topic" → its file, when a help desk's folder merged into the bundled steps
    files: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, text: str) -> str | None:
        """The client key for free text ("Outlook 2016" → "outlook"), or None."""
        words = " ".join(text.lower().split())
        if words in self.steps and words != "default":
            return words
        if words in self.aliases:
            return self.aliases[words]
        # The longest alias inside the text wins: "outlook for mac" before "outlook".
        hits = [a for a in self.aliases if _contains_words(words, a)]
        hits += [k for k in self.steps if k != "default" and _contains_words(words, k)]
        if not hits:
            return None
        best = max(hits, key=len)
        return self.aliases.get(best, best)

    def text_for(self, client: str | None, topic: str) -> str:
        """The steps for a topic in a client, falling back on the generic `default` client."""
        for key in (client, "default"):
            if key and topic in self.steps.get(key, _EMPTY):
                return str(self.steps[key][topic])
        return ""


def _contains_words(text: str, phrase: str) -> bool:
    padded = f" {text} "
    return f" {phrase} " in padded or (len(phrase) > 3 and phrase in text)


@dataclass(frozen=True)
class FlowSet:
    """Everything loaded from a flows directory, already validated."""

    flows: Mapping[str, Flow]
    subflows: Mapping[str, Flow]
    clients: ClientSteps = field(default_factory=ClientSteps)
    vocabulary: Mapping[str, Any] = field(default_factory=dict)
    digest: str = ""  # sha256 over the files, for transcripts
    # Each `_vocabulary.yaml` read, as (file label, its data), for checks naming FILE:LINE.
    vocabularies: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    # Symptom ids and diagnosis codes a help desk's folder declared (id → summary/evidence).
    symptoms: Mapping[str, str] = field(default_factory=dict)
    diagnoses: Mapping[str, str] = field(default_factory=dict)
    # What establishes each of those codes (its `basis:`), recorded as the outcome's basis.
    bases: Mapping[str, Basis] = field(default_factory=dict)

    def get(self, flow_id: str) -> Flow:
        """A flow or sub-flow by id."""
        return self.flows.get(flow_id) or self.subflows[flow_id]
