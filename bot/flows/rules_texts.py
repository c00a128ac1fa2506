"""Lint rules about what a customer reads: placeholders in texts and client steps."""

from __future__ import annotations

from collections.abc import Iterator

from bot.errors import FlowProblem
from bot.flows.model import PLACEHOLDER, STEP_TOPICS, ClientSteps, Flow, Node
from bot.flows.ruleset import Context
from bot.flows.ruleset import problem as _p
from bot.slots import SECRET_SLOTS, SLOT_NAMES

SERVER_FIELDS = frozenset({"host", "port", "security", "security_label", "username", "protocol"})
PROVIDER_FIELDS = frozenset({"name", "short_name", "id"})
EXTRA_NAMES = frozenset({"title", "symptom", "client_name", "login_servers"})


def validate_templates(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Placeholders name slots, provider fields, facts or step topics; never the password."""
    for node in flow.nodes.values():
        texts = [("prompt", node.prompt), (_text_key(node), node.text)]
        texts += [("with", v) for v in node.params.values()]
        for key, text in texts:
            for name in placeholder_names(text):
                message = placeholder_problem(name, flow.slots)
                if message:
                    yield _p(flow, node.line_of(key), f"node '{node.name}': {message}")


def placeholder_names(text: str) -> list[str]:
    """The names of a text's `{name}` / `{name|default}` placeholders, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def _text_key(node: Node) -> str:
    return {"say": "say", "probe": "say", "resolve": "say", "handoff": "handoff"}.get(
        node.kind, "say")


def placeholder_problem(name: str, local_slots: frozenset[str] = frozenset()) -> str | None:
    """Why `{name}` cannot be filled, or None when it can."""
    root, _, rest = name.partition(".")
    if name in SECRET_SLOTS or (root == "client" and rest in SECRET_SLOTS):
        return f"placeholder {{{name}}} would show a secret"
    ok = (
        (not rest and (root in SLOT_NAMES or root in local_slots or root in EXTRA_NAMES))
        or (root == "client" and rest in SLOT_NAMES)
        or (root == "facts" and bool(rest))
        or (root == "steps" and rest in STEP_TOPICS)
        or (root == "provider" and _provider_field(rest))
    )
    return None if ok else f"unknown placeholder {{{name}}}"


def _provider_field(rest: str) -> bool:
    side, _, field = rest.partition(".")
    return (not field and side in PROVIDER_FIELDS) or (
        side in ("incoming", "outgoing") and field in SERVER_FIELDS)


def validate_clients(clients: ClientSteps) -> Iterator[FlowProblem]:
    """Step texts use known topics and placeholders."""
    for key, topics in clients.steps.items():
        for topic, text in topics.items():
            line = clients.lines.get(f"{key}.{topic}", 1)
            file = clients.files.get(f"{key}.{topic}", clients.file)
            if topic not in STEP_TOPICS:
                yield FlowProblem(file, line, f"client '{key}': unknown topic '{topic}' "
                                  f"({', '.join(sorted(STEP_TOPICS))})")
            for name in placeholder_names(text):
                message = placeholder_problem(name)
                if message and not name.startswith("steps."):
                    yield FlowProblem(file, line, f"client '{key}' {topic}: {message}")
