"""One compiled `transitions` state machine per flow, shared by every session.

States are the flow's nodes; a single trigger, `advance`, moves on. Which transition fires is
decided by conditions, as the library intends: an answer or probe outcome label for ask and
probe nodes, the `when:` rules (in order, `else` last) for branch nodes. The machine is built
with `model=None` and never holds a session: a session's position is lent to it for one step
through a throw-away cursor on which the shared `advance` event fires, so a thousand sessions
neither rebuild a machine nor stay registered in one. This is the only module that imports
`transitions`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import EventData, Machine

from bot.errors import EngineError
from bot.flows.model import Flow, Node, Rule

logging.getLogger("transitions").setLevel(logging.WARNING)

TRIGGER = "advance"


@dataclass(frozen=True)
class Facts:
    """What branch conditions read: slot values, diagnoses seen so far, where probes run, and
    the address's provider traits (bot.ids.PROVIDER_TRAITS)."""

    slots: Mapping[str, str]
    evidence: frozenset[str] = field(default_factory=frozenset)
    vantage: str = "local"
    provider: frozenset[str] = field(default_factory=frozenset)


class _Label:
    """Condition: the step was taken with this answer/outcome label."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, event: EventData) -> bool:
        return bool(event.kwargs.get("label") == self.label)


class _When:
    """Condition: every key of a branch rule's `when:` holds (AND)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __call__(self, event: EventData) -> bool:
        facts: Facts = event.kwargs["facts"]
        return all(_holds(key, values, facts) for key, values in self.rule.when.items())


def _holds(key: str, values: tuple[str, ...], facts: Facts) -> bool:
    if key == "known":
        return all(facts.slots.get(v) for v in values)
    if key == "unknown":
        return not any(facts.slots.get(v) for v in values)
    if key == "evidence":
        return any(v in facts.evidence for v in values)
    if key == "vantage":
        return facts.vantage in values
    if key == "provider":
        return any(v in facts.provider for v in values)
    value = facts.slots.get(key)
    return value is not None and value.lower() in {v.lower() for v in values}


class _Cursor:
    """A session's position, lent to the shared machine for one step."""

    state: str


def _transitions(node: Node) -> list[dict[str, Any]]:
    if node.kind == "branch":
        return [
            {"trigger": TRIGGER, "source": node.name, "dest": rule.goto,
             "conditions": [] if rule.is_else else [_When(rule)]}
            for rule in node.rules
        ]
    out = [{"trigger": TRIGGER, "source": node.name, "dest": dest, "conditions": [_Label(label)]}
           for label, dest in node.edges()]
    # Probe outcomes nobody named go to `other:` (validated to exist when needed).
    if node.kind == "probe" and "other" in node.on:
        out.append({"trigger": TRIGGER, "source": node.name, "dest": node.on["other"]})
    return out


class CompiledFlow:
    """A flow and its state machine; `step` answers "where next?" for any session."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        transitions = [t for node in flow.nodes.values() for t in _transitions(node)]
        self.machine = Machine(
            model=None, states=list(flow.nodes), transitions=transitions, initial=flow.start,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=True,
            model_attribute="state",
        )
        # A flow of one terminal node (a help desk's "call us" flow) has no transition at all.
        self._advance = self.machine.events.get(TRIGGER)

    def node(self, name: str) -> Node:
        """A node by name (EngineError when a saved session names one that is gone)."""
        try:
            return self.flow.nodes[name]
        except KeyError:
            raise EngineError(f"flow '{self.flow.id}' has no node '{name}'",
                              flow_id=self.flow.id, node=name) from None

    def step(self, node: str, facts: Facts, label: str | None = None) -> str:
        """The node after `node`, taking `label` (answer or outcome) or the branch rules."""
        cursor = _Cursor()
        cursor.state = self.node(node).name
        # Firing the shared event on a throw-away cursor: no add_model/remove_model per step
        # (which re-binds every trigger and state helper) and nothing kept per session.
        moved = self._advance is not None and self._advance.trigger(cursor, label=label,
                                                                    facts=facts)
        if not moved:
            raise EngineError(
                f"flow '{self.flow.id}': node '{node}' has no way on for {label!r}",
                flow_id=self.flow.id, node=node)
        return cursor.state
