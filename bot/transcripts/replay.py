"""Replay: run a recorded conversation through the current flows and compare what comes out.

Offline by default: the user's lines are fed in again and each probe the flow asks for is
answered with the report recorded at that point, so a replay is deterministic and never touches
the network. A flow that now asks for a different probe than the recording holds has diverged.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

from bot.catalog.model import Provider
from bot.errors import DeskbotError, TranscriptError
from bot.flows.loader import FlowDirs
from bot.probes.model import ProbeReport
from bot.probes.runners import RecordedFeed, RecordedProbeRunner, ReplayRunner, Vantage
from bot.slots import SECRET_SLOTS
from bot.transcripts.document import Role, Transcript, Turn, utc_now
from bot.transcripts.reader import read_transcript
from bot.transcripts.writer import transcript_from_session

if TYPE_CHECKING:
    from bot.engine import Engine

log = logging.getLogger(__name__)

# Stands in for a secret the recording left out. Offline it only has to be non-empty (the
# recorded reports already hold the login results); it is never written: the engine redacts
# secret answers and the writer scrubs the `password` slot.
PLACEHOLDER_SECRET = "replay-placeholder-secret"


@dataclass(frozen=True)
class Divergence:
    """Where a replay left the recorded path, and how to show it."""

    turn: int  # 1-based index into the recorded turns (len + 1: the outcome line)
    split: str  # the node where the paths split, in words
    diff: str  # unified diff of recorded vs replayed turns (first differing hunk)
    problems: tuple[str, ...] = ()  # probe mismatches, engine errors
    unrecorded_probes: bool = False  # the flow asked for probes the recording does not hold


@dataclass(frozen=True)
class ReplayResult:
    """The result of replaying one transcript."""

    source: str
    expected: Transcript
    actual: Transcript | None
    divergence: Divergence | None = None

    @property
    def passed(self) -> bool:
        return self.divergence is None


class Replayer:
    """Replays transcripts through one loaded engine (offline unless `live`)."""

    def __init__(
        self, flows_dir: FlowDirs, *, config: Any = None, live: bool = False
    ) -> None:
        from bot import bundle
        from bot.config import Config
        from bot.engine import Engine

        self.live = live
        folders = [flows_dir] if isinstance(flows_dir, str | Path) else list(flows_dir)
        self.flows_dir = Path(folders[-1])
        self._config = config if config is not None else Config()
        # Offline, every probe is answered from the transcript's feed; this runner only
        # answers provider look-ups from the catalogue for domains the recording left out.
        runner = None if live else RecordedProbeRunner()
        self.engine: Engine = Engine(bundle.load(folders), flows_dir=self.flows_dir,
                                     config=self._config, runner=runner)

    def _engine_for(self, vantage: str, runner: ReplayRunner) -> Engine:
        # Flows may branch on where the probes ran, so replay from the recorded vantage.
        engine = self.engine.with_runner(runner)
        if vantage == engine.vantage or vantage not in get_args(Vantage):
            return engine
        return engine.with_vantage(cast(Vantage, vantage))

    @property
    def flows_hash(self) -> str:
        return str(getattr(self.engine, "flows_hash", ""))

    async def replay(self, expected: Transcript, *, source: str = "transcript") -> ReplayResult:
        """Feed the recorded user turns (and probe reports) in again and compare."""
        feed = None if self.live else RecordedFeed(_recorded_reports(expected))
        providers = {d: Provider.from_dict(dict(p)) for d, p in expected.providers.items()}
        engine = self._engine_for(expected.vantage,
                                  ReplayRunner(feed, providers, self.engine.runner))
        session, error = await self._drive(engine, expected)
        # The session's engine answers with the recorded providers: the transcript lists those
        # it used.
        actual = replace(transcript_from_session(session), created=expected.created,
                         redacted=expected.redacted, context=expected.context,
                         input_ended=expected.input_ended)
        problems = list(feed.problems) if feed is not None else []
        if error is not None:
            problems.append(error)
        divergence = compare(expected, actual, problems,
                             unrecorded_probes=feed is not None and bool(feed.problems))
        return ReplayResult(source, expected, actual, divergence)

    async def _drive(self, engine: Any, expected: Transcript) -> tuple[Any, str | None]:
        context = dict(expected.context)
        context.update({slot: PLACEHOLDER_SECRET for slot in expected.redacted})
        session = engine.start(context)
        try:
            await session.open()
            await _feed_user_turns(session, expected.user_texts)
            if expected.input_ended:
                await session.finish()
        except DeskbotError as exc:  # a flow error is a divergence to report, not a crash
            return session, f"the engine stopped: {exc}"
        return session, None


async def _feed_user_turns(session: Any, texts: Sequence[str | None]) -> None:
    # Lines after the outcome are fed too: the engine answers them ("start over" restarts).
    fed = _user_count(session)  # open() may already have handled the context's `message`
    while fed < len(texts):
        text = texts[fed]
        await session.send(PLACEHOLDER_SECRET if text is None else text)
        fed = max(fed + 1, _user_count(session))


def _user_count(session: Any) -> int:
    return sum(1 for t in session.turns if t.role is Role.USER)


def _recorded_reports(transcript: Transcript) -> list[tuple[int, ProbeReport]]:
    out: list[tuple[int, ProbeReport]] = []
    for number, turn in enumerate(transcript.turns, 1):
        if turn.role is Role.PROBE and turn.report is not None:
            out.append((number, turn.report))
    return out


# --- comparison -----------------------------------------------------------------------------

def turn_key(turn: Turn) -> tuple[Any, ...]:
    """What must match between a recorded and a replayed turn (not timings or evidence)."""
    if turn.role is Role.USER:
        return ("user", None if turn.redacted else turn.text)
    if turn.role is Role.BOT:
        return ("bot", turn.flow, turn.node, turn.kind, turn.text)
    params = {k: v for k, v in turn.params.items() if k not in SECRET_SLOTS}
    outcome = turn.report.outcome if turn.report else None
    return ("probe", turn.flow, turn.node, turn.name, tuple(sorted(params.items())), outcome)


def render_turn(turn: Turn) -> list[str]:
    """A turn as diff lines: `who flow/node kind: text`, long texts continued on `|` lines."""
    where = _where(turn)
    if turn.role is Role.USER:
        text = "(hidden answer)" if turn.redacted else str(turn.text)
        head, rest = f"user: {_first(text)}", _rest(text)
    elif turn.role is Role.BOT:
        text = turn.text or ""
        head, rest = f"bot  {where} {turn.kind}: {_first(text)}", _rest(text)
    else:
        outcome = turn.report.outcome if turn.report else None
        params = {k: v for k, v in turn.params.items() if k not in SECRET_SLOTS}
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        head, rest = f"probe {where} {turn.name}({shown}) -> {outcome}", []
    return [head] + [f"     | {line}" for line in rest]


def _where(turn: Turn) -> str:
    return f"{turn.flow}/{turn.node}" if turn.flow or turn.node else "-"


def _first(text: str) -> str:
    return text.split("\n", 1)[0]


def _rest(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")[1:]


def _outcome_line(transcript: Transcript) -> str:
    o = transcript.outcome
    return f"outcome: {o.status} symptom={o.symptom} diagnosis={o.diagnosis} basis={o.basis}"


def compare(
    expected: Transcript, actual: Transcript, problems: Sequence[str] = (), *,
    unrecorded_probes: bool = False,
) -> Divergence | None:
    """None when the replay matches the recording, else where and how it differs."""
    want = [turn_key(t) for t in expected.turns]
    got = [turn_key(t) for t in actual.turns]
    same_outcome = expected.outcome == actual.outcome
    if want == got and same_outcome and not problems:
        return None
    index = next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
                 min(len(want), len(got)))
    if want[:index] == want and got[:index] == got:
        index = len(want)  # identical turns: only the outcome differs
    return Divergence(
        turn=index + 1,
        split=_split_description(expected.turns, actual.turns, index),
        diff=_first_hunk(expected, actual),
        problems=tuple(problems),
        unrecorded_probes=unrecorded_probes,
    )


def _split_description(want: Sequence[Turn], got: Sequence[Turn], index: int) -> str:
    last = next((_where(t) for t in reversed(want[:index]) if t.node), None)
    expected = _where(want[index]) if index < len(want) else "(end of recording)"
    actual = _where(got[index]) if index < len(got) else "(conversation ended)"
    if expected == actual and index < min(len(want), len(got)):
        role = want[index].role
        what = "probe" if role is Role.PROBE else "text" if role is Role.BOT else "user line"
        return f"same path, the {what} at {expected} changed"
    after = f"after {last}" if last else "at the start"
    return f"paths split {after}: recorded {expected}, now {actual}"


def _lines(transcript: Transcript) -> list[str]:
    out: list[str] = []
    for turn in transcript.turns:
        out += render_turn(turn)
    return [*out, _outcome_line(transcript)]


def _first_hunk(expected: Transcript, actual: Transcript, *, context: int = 3) -> str:
    diff = list(difflib.unified_diff(
        _lines(expected), _lines(actual), "recorded", "replayed", n=context, lineterm=""))
    hunks = [i for i, line in enumerate(diff) if line.startswith("@@")]
    if len(hunks) <= 1:
        return "\n".join(diff)
    more = sum(1 for line in diff[hunks[1]:] if line[:1] in "+-")
    return "\n".join([*diff[: hunks[1]], f"... ({more} more changed lines further on)"])


def updated(result: ReplayResult) -> Transcript | None:
    """The re-recorded transcript for `--update`, or None when it cannot be trusted offline."""
    if result.actual is None or (result.divergence and result.divergence.unrecorded_probes):
        return None
    return replace(result.actual, created=utc_now())


async def replay_files(replayer: Replayer, files: Sequence[Path]) -> list[ReplayResult]:
    """Replay files one after another; an unreadable file is a failed result with its reason."""
    results: list[ReplayResult] = []
    for path in files:
        try:
            expected = read_transcript(path)
        except TranscriptError as exc:
            failure = Divergence(turn=0, split="unreadable", diff="", problems=(str(exc),))
            results.append(ReplayResult(str(path), Transcript(turns=()), None, failure))
            continue
        results.append(await replayer.replay(expected, source=str(path)))
    return results

