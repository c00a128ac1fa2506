"""`_clients.yaml`: per mail client, the click paths for each topic (docs/flow-language.md)."""

from __future__ import annotations

from typing import Any

from bot.errors import FlowProblem
from bot.flows.model import ClientSteps
from bot.flows.shape import Shape, line_of
from bot.flows.yamlsafe import LineDict


def parse_clients(
    data: Any, label: str, *, require_default: bool = True
) -> tuple[ClientSteps, list[FlowProblem]]:
    """flows/_clients.yaml: `aliases:` (free text → key) and key → {name, TOPIC: text}.

    The clients may also sit under a `clients:` key, each with its topics under `steps:`.
    A help desk's own `_clients.yaml` adds to the bundled one, so it needs no `default`.
    """
    shape = Shape(label)
    if not isinstance(data, LineDict):
        shape.error(1, "_clients.yaml must map client keys to {name, TOPIC: text} and `aliases:`")
        return ClientSteps(file=label), shape.problems
    aliases = {k.lower(): v for k, v in shape.mapping(data, "aliases", "clients").items()}
    clients = data["clients"] if isinstance(data.get("clients"), LineDict) else data
    steps: dict[str, dict[str, str]] = {}
    labels: dict[str, str] = {}
    lines: dict[str, int] = {}
    for key, body in clients.items():
        if key in ("aliases", "clients"):
            continue
        if not isinstance(body, LineDict):
            shape.error(line_of(clients, key), f"client '{key}' must map topic to steps text")
            continue
        labels[key] = shape.text(body, "name", f"client '{key}'") or key
        topics = body["steps"] if isinstance(body.get("steps"), LineDict) else body
        steps[key] = _topics(shape, topics, key)
        lines.update({f"{key}.{t}": line_of(topics, t) for t in steps[key]})
    for alias, key in aliases.items():
        if key not in steps and require_default:
            shape.error(line_of(data, "aliases"), f"alias '{alias}' names unknown client '{key}'")
    if "default" not in steps and require_default:
        shape.error(data.line, "_clients.yaml needs a `default` client (generic steps)")
    clients_ = ClientSteps(steps=steps, aliases=aliases, labels=labels, file=label, lines=lines)
    return clients_, shape.problems


def _topics(shape: Shape, body: LineDict, client: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for topic, text in body.items():
        if topic in ("name", "steps"):
            continue
        if not isinstance(text, str):
            shape.error(line_of(body, topic), f"client '{client}': `{topic}` must be text")
            continue
        out[topic] = text
    return out
