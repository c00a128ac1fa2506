"""Hostile and random values into every way in (issue 15): slots, CLI flags, answers files,
transcripts and HTTP routes. Whatever comes in: no traceback, no hang past a deadline, no 500,
and the password in no output, in no encoding.

The probe runner here is a recorded one that echoes the login back in its evidence (quoted and
base64, as a verbose server does), so every output is also a test of the scrubber. Hypothesis
keeps the examples few (the machine is shared) and derandomized (the same examples on every
run, so landing never depends on luck); explore more with a larger `max_examples` locally.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.engine import Engine
from bot.errors import DeskbotError
from bot.interfaces.cli import main
from bot.interfaces.http import create_app
from bot.probes.model import Check, ProbeObserver, ProbeReport
from bot.probes.runners import CatalogueProviders, ProbeCall
from bot.slots import SLOT_NAMES, normalize_slots
from bot.transcripts import transcript_from_session

PASSWORD = 'Fuzz"Secret\\9f3+/'
FLOWS = Path(__file__).resolve().parents[1] / "flows"
REPO = Path(__file__).resolve().parents[1]
SCRATCH = Path(tempfile.mkdtemp(prefix="deskbot-fuzz-"))
OFFLINE = SCRATCH / "offline.toml"
OFFLINE.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.2\n')
RAW_CONTROLS = ("\x1b]", "\x1b[", "\x07", "\x9b", "\x9d")

HOSTILE = [
    "x\r\nd100 LOGIN victim guess\r\n", "a\x00b", "\x1b]0;title\x07\x1b[2J\x1b[8mhidden",
    "\x9b31m", "\u202eevil", "\ud800", "9" * 5000, "-1", "0", "65536", "1e309", "nan",
    "a" * 20000, "   ", "", "imap.example.test.", "127.0.0.1", "::1", "64:ff9b::a9fe:a9fe",
    "user@", "@example.test", "ann@example.test\r\nRCPT TO:<x@y>", "{password}", "{email}",
    "%0d%0aQUIT", "ssl", "starttls", "none", "pop3", "imap", "true", "false", PASSWORD,
]
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=()), max_size=60),  # controls, surrogates too
)


def _forms(password: str) -> list[str]:
    blob = base64.b64encode(f"\0ann@example.test\0{password}".encode()).decode()
    return [password, password.replace("\\", "\\\\").replace('"', '\\"'), blob,
            base64.b64encode(password.encode()).decode()]


def _assert_clean(text: str) -> None:
    for form in _forms(PASSWORD):
        assert form not in text, f"the password leaked as {form!r}"


class EchoRunner(CatalogueProviders):
    """Recorded probes whose evidence echoes the login the way a verbose server does."""

    async def run(self, name: str, params: Mapping[str, str],
                  observer: ProbeObserver | None = None, *, call: ProbeCall) -> ProbeReport:
        password = params.get("password", "")
        blob = base64.b64encode(f"\0ann@example.test\0{password}".encode()).decode()
        quoted = password.replace("\\", "\\\\").replace('"', '\\"')
        evidence = f'NO LOGIN "ann" "{quoted}" rejected; 535 5.7.8 {blob} \x1b]0;t\x07'
        check = Check("imap", "imap.example.test:993", "fail", evidence, None, 1.0,
                      "login_rejected")
        if observer is not None:
            observer.check_started("imap", check.target)
            observer.check_finished(check)
        outcome = "auth_wrong_password" if name.startswith("check_") else "not_found"
        return ProbeReport(name, check.target, outcome, (check,), (outcome,) if
                           outcome != "not_found" else (), notes=(evidence,))


_ENGINE: Engine | None = None


def _engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine.load(FLOWS, runner=EchoRunner())
    return _ENGINE


@settings(max_examples=40, derandomize=True, deadline=timedelta(seconds=20),
          suppress_health_check=[HealthCheck.too_slow])
@given(context=st.dictionaries(st.sampled_from(sorted(SLOT_NAMES - {"password"})), values,
                               max_size=6),
       lines=st.lists(values, max_size=8))
def test_every_slot_and_line_is_survived_and_never_leaks(
    context: dict[str, str], lines: list[str]
) -> None:
    try:
        slots = normalize_slots({**context, "password": PASSWORD}, source="context")
    except DeskbotError:
        return  # refused with a message: fine
    session = _engine().start(slots)

    async def talk() -> list[str]:
        shown = [(await session.open()).text]
        for line in lines:
            if session.outcome is not None:
                break
            shown.append((await session.send(line)).text)
        shown.append((await session.finish()).text)
        return shown

    asyncio.run(talk())
    assert session.outcome is not None
    transcript = json.dumps(transcript_from_session(session).to_dict(), ensure_ascii=False)
    _assert_clean(transcript)


def _cli(argv: list[str]) -> tuple[int, str]:
    """`deskbot ARGV` in this process, stdin empty; (exit code, everything it printed)."""
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("")
    here = os.getcwd()
    os.chdir(SCRATCH)  # relative paths among the flags (--transcript x) land here
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: usage errors
                code = int(exc.code or 0) if not isinstance(exc.code, str) else 2
    finally:
        sys.stdin = stdin
        os.chdir(here)
    return code, out.getvalue() + err.getvalue()


@settings(max_examples=25, derandomize=True, deadline=timedelta(seconds=30),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(answers=st.one_of(
    st.binary(max_size=300),
    st.dictionaries(st.sampled_from(sorted(SLOT_NAMES)), values, max_size=5).map(
        lambda d: json.dumps({**d, "password": PASSWORD}).encode()),
))
def test_answers_files_never_crash_the_cli_or_leak(tmp_path_factory: Any, answers: bytes) -> None:
    folder = tmp_path_factory.mktemp("answers")
    path, config = folder / "answers.yaml", folder / "offline.toml"
    path.write_bytes(answers)
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.2\n')
    code, output = _cli(["chat", "--answers", str(path), "--config", str(config)])
    assert code in (0, 2), output
    assert "Traceback" not in output
    _assert_clean(output)
    assert not any(raw in output for raw in RAW_CONTROLS)


def _argv_ok(value: str) -> bool:
    """What a command line can carry: no NUL, and bytes the OS can encode (undecodable bytes
    arrive as U+DC80-U+DCFF, never as other lone surrogates)."""
    try:
        os.fsencode(value)
    except UnicodeError:
        return False
    return "\0" not in value


flag_values = st.one_of(st.sampled_from(["", "-", "--", "x" * 300, "\x1b[2J", "/dev/zero",
                                         "/nonexistent", "9" * 5000, "a@b", "\udcff"]),
                        st.text(max_size=20)).filter(_argv_ok)


@settings(max_examples=30, derandomize=True, deadline=timedelta(seconds=30))
@given(command=st.sampled_from(["chat", "match", "flows", "replay", "probe"]),
       flags=st.lists(st.tuples(st.sampled_from(["--config", "--answers", "--flows",
                                                 "--transcript", "--json", "-q", "--min-coverage",
                                                 "check", "--bogus"]), flag_values),
                      max_size=3))
def test_cli_flags_give_usage_or_one_line_errors(
    command: str, flags: list[tuple[str, str]]
) -> None:
    argv = [command] + [part for flag, value in flags for part in (flag, value)]
    if command in ("replay", "probe") and not any(not a.startswith("-") for a in argv[1:]):
        argv.append("/nonexistent")
    if command == "probe":
        argv += ["--config", str(OFFLINE)]
    code, output = _cli(argv)
    assert code in (0, 1, 2), (argv, output)
    assert "Traceback" not in output
    assert not any(raw in output for raw in RAW_CONTROLS), output


def _mutations() -> st.SearchStrategy[Any]:
    return st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                                  values), lambda inner: st.one_of(
                                      st.lists(inner, max_size=4),
                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=12)


@settings(max_examples=30, derandomize=True, deadline=timedelta(seconds=30),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["turns", "outcome", "context", "format", "providers", "symptom",
                            "redacted", "created"]),
       turn_key=st.sampled_from(["role", "text", "params", "report", "name", "flow", "node"]),
       value=_mutations())
def test_mutated_transcripts_are_replayed_or_refused(
    tmp_path_factory: Any, key: str, turn_key: str, value: Any
) -> None:
    source = REPO / "transcripts" / "coverage" / "outbox_stuck-untested.json"
    doc = json.loads(source.read_text(encoding="utf-8"))
    doc[key] = value if key != "turns" else doc["turns"]
    if key == "turns":
        doc["turns"][len(doc["turns"]) // 2][turn_key] = value
    path = tmp_path_factory.mktemp("replay") / "t.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    code, output = _cli(["replay", str(path)])
    assert code in (0, 1), output
    assert "Traceback" not in output
    assert not any(raw in output for raw in RAW_CONTROLS), output


bodies = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                                values),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(st.text(max_size=10), inner,
                                                              max_size=3)),
                      max_leaves=10)


@settings(max_examples=40, derandomize=True, deadline=timedelta(seconds=20),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(context=st.one_of(bodies, st.dictionaries(st.sampled_from(sorted(SLOT_NAMES)), values,
                                                 max_size=5)),
       messages=st.lists(st.one_of(bodies, values.map(lambda t: {"text": t})), max_size=4),
       content_type=st.sampled_from(["application/json", "text/plain", "",
                                     "application/x-www-form-urlencoded"]))
def test_http_routes_never_500_and_never_leak(
    tmp_path_factory: Any, context: Any, messages: list[Any], content_type: str
) -> None:
    folder = tmp_path_factory.mktemp("http")
    config_path = folder / "serve.toml"
    config_path.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n'
                           '[serve]\nsqlite_path = "s.db"\nsessions_per_client = 1000\n')
    app = create_app(Config.load(config_path, serve_mode=True), runner=EchoRunner())

    def encoded(body: Any) -> bytes:
        return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")

    async def go() -> list[str]:
        seen: list[str] = []
        headers = {"Content-Type": content_type} if content_type else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://deskbot") as c:
            body = {"context": {**context, "password": PASSWORD}} if isinstance(
                context, dict) and set(context) <= SLOT_NAMES else {"context": context}
            res = await c.post("/v1/sessions", content=encoded(body), headers=headers)
            seen.append(f"{res.status_code} {res.text}")
            sid = res.json().get("id") if res.status_code == 201 else "x" * 24
            for message in messages:
                res = await c.post(f"/v1/sessions/{sid}/messages", content=encoded(message),
                                   headers=headers)
                seen.append(f"{res.status_code} {res.text}")
            for route in (f"/v1/sessions/{sid}", f"/v1/sessions/{sid}/transcript"):
                res = await c.get(route)
                seen.append(f"{res.status_code} {res.text}")
        stored = b"".join(p.read_bytes() for p in folder.glob("s.db*"))
        seen.append(stored.decode("latin-1"))
        return seen

    for answer in asyncio.run(go()):
        assert not answer.startswith("5") or answer.startswith("503"), answer[:300]
        _assert_clean(answer)


def test_nothing_hangs_on_the_worst_inputs_in_a_real_process(tmp_path: Path) -> None:
    """The deadline check in a subprocess: each of these once hung or ran for minutes."""
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    runs = [(["chat", "--answers", str(fifo)], ""), (["match"], "a" * 1_000_000 + "\n"),
            (["replay", str(fifo)], ""), (["flows", "check", str(tmp_path)], "")]
    for argv, stdin in runs:
        done = subprocess.run([sys.executable, "-m", "bot", *argv], input=stdin,
                              capture_output=True, text=True, timeout=30)
        assert "Traceback" not in done.stdout + done.stderr, argv
