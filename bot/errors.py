"""The exception tree. Expected troubleshooting outcomes are values, never exceptions.

    DeskbotError
    ├── ConfigError          bad --config file or option
    ├── AnswersError         unreadable or invalid --answers file
    ├── CatalogError         a provider file that cannot be used
    ├── FlowError            a flow file that fails to load or validate (carries every problem)
    ├── EngineError          a flow misbehaving at run time (step limit, missing node)
    ├── TranscriptError      a corrupt, truncated or future-version transcript
    ├── ProbeRefused         a probe target the safety policy forbids (serve mode)
    ├── RunnerFault          a probe runner broke the seam's promise (facts missing)
    ├── SessionBusy          an HTTP session stayed locked past the wait (serve mode)
    └── StoreUnavailable     the session store could not save a turn (serve mode)
"""

from __future__ import annotations

from dataclasses import dataclass


class DeskbotError(Exception):
    """Base of every error deskbot raises on purpose; the message is for a support agent."""


class ConfigError(DeskbotError):
    """The configuration file or an option is invalid."""


class AnswersError(DeskbotError):
    """The --answers file cannot be read or holds an unknown slot."""


class CatalogError(DeskbotError):
    """A provider (autoconfig XML) file cannot be used."""


@dataclass(frozen=True)
class FlowProblem:
    """One problem in a flow file, printed as `FILE:LINE: message`."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FlowError(DeskbotError):
    """Flow files failed to load or validate; `problems` lists every one of them."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class EngineError(DeskbotError):
    """A flow misbehaved while running (e.g. looped without asking the user)."""

    def __init__(self, message: str, *, flow_id: str | None = None, node: str | None = None):
        self.flow_id = flow_id
        self.node = node
        super().__init__(message)


class TranscriptError(DeskbotError):
    """A transcript file is corrupt, truncated or of a format this version cannot read."""


class ProbeRefused(DeskbotError):
    """The safety policy forbids probing this target (serve mode without allow_private)."""


class RunnerFault(DeskbotError):
    """A probe runner returned a report that breaks what its outcome promises: a diagnosis
    code without the facts the diagnosis table guarantees to fix texts (bot/data/diagnoses.yaml
    `facts`), or `found` without a provider. The conversation hands off; nothing is guessed."""

    def __init__(self, runner: str, probe: str, outcome: str, missing: tuple[str, ...]) -> None:
        self.runner = runner
        self.probe = probe
        self.outcome = outcome
        self.missing = missing
        super().__init__(
            f"the {runner} runner broke its promise: {probe} reported {outcome} without "
            f"{', '.join(missing)}, which {outcome} guarantees")


class SessionBusy(DeskbotError):
    """A help-desk session stayed locked by another request longer than the service waits."""


class StoreUnavailable(DeskbotError):
    """The session store refused a write (locked, read-only, full, unreachable): the turn was
    not applied and may be retried."""


class MessageIdReused(DeskbotError):
    """A client `message_id` came back with a different text than the message it first named:
    the retry key is spent, so the new text is not applied (HTTP 409)."""
