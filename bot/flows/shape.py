"""The shape pass's helpers: collect FILE:LINE problems while turning YAML data into values."""

from __future__ import annotations

from typing import Any

from bot.errors import FlowProblem
from bot.flows.yamlsafe import LineDict


class Shape:
    """Collects problems for one file while converting YAML data to model values."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[FlowProblem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(FlowProblem(self.label, line, message))

    def text(self, data: LineDict, key: str, where: str, *, required: bool = False) -> str:
        value = data.get(key)
        line = line_of(data, key)
        if value is None:
            if required:
                self.error(data.line, f"{where}: `{key}` is missing")
            return ""
        if isinstance(value, bool | dict | list):
            self.error(line, f"{where}: `{key}` must be text")
            return ""
        return str(value)

    def mapping(self, data: LineDict, key: str, where: str) -> dict[str, str]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(line_of(data, key), f"{where}: `{key}` must be a mapping")
            return {}
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, dict | list) or v is None:
                self.error(line_of(value, k), f"{where}: `{key}.{k}` must be a single value")
                continue
            out[str(k)] = scalar(v)
        return out


def line_of(data: Any, key: Any) -> int:
    """The line of `key` in a YAML mapping (the mapping's own line when unknown; 0: no line)."""
    if isinstance(data, LineDict):
        return data.key_lines.get(key, data.line)
    return 0


def scalar(value: Any) -> str:
    """A YAML scalar as flow text (`true`/`false` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
