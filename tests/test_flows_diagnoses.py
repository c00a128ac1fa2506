"""Every (flow, diagnosis) pair the flows can reach, proven end to end.

Each case runs `deskbot chat --answers F --config C --transcript T` as a subprocess against a
real loopback mail world (tests/peers) with one fault injected, and asserts the diagnosis the
transcript records. Cases that share a fault share one world; all worlds are up at once and the
conversations run a few at a time, so the file stays fast. A meta-test checks that the table
covers every pair the flow graphs can reach, so a new resolve without a test fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.flows.loader import load_flows
from bot.flows.model import Flow, FlowSet
from tests.peers import MailWorld, WorldOptions
from tests.peers.dovecot_faults import APPPW, BUSY, FULL
from tests.peers.netns import NetNamespace
from tests.peers.netns import available as netns_available

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
DESKBOT = [sys.executable, "-m", "bot"]

# What a customer would first type, per flow (the matcher picks the flow from it).
MESSAGES: dict[str, str] = {
    "outbox_stuck": "my emails are stuck in the outbox and will not send",
    "outgoing_rejected": "my emails bounce back as undeliverable",
    "auth_failed": "my mail app keeps asking for my password",
    "connection_timeout": "my mail app says the connection to the server timed out",
    "cannot_receive": "I am not receiving any new emails in my inbox",
    "certificate_warning": "my mail app warns that the server's security certificate is not valid",
    "account_setup": "what are the correct settings to set up my email account",
    "missing_on_other_devices": "emails disappear from my phone after my computer downloads them",
    "duplicate_messages": "I keep getting the same emails downloaded over and over again",
    "large_mailbox": "my mailbox is full and over its storage quota",
}

# World options per fault kind; cases naming the same world share one running world.
WORLDS: dict[str, dict[str, Any]] = {
    "healthy": {},
    "dns_down": {"dns_down": True},
    "unknown_ca": {"smtp_cert": "unknown_ca", "dovecot_cert": "unknown_ca"},
    "wrong_name": {"smtp_cert": "wrong_name", "dovecot_cert": "wrong_name"},
    "expired": {"smtp_cert": "expired", "dovecot_cert": "expired"},
    "localpart": {"user_form": "localpart"},
    "oauth": {"oauth_only": True, "basic_auth_disabled": True},
    "cram_md5": {"smtp_mechanisms": ("CRAM-MD5",)},
    "relay_open": {"relay": "open"},
    "pop3_locked": {"pop3_locked": True},
    # issue 12: real peers with the new faults (tests/peers/dovecot_faults.py, smtp.py)
    "app_password": {"app_password_required": True, "fault_dovecot": True},
    "faults": {"fault_dovecot": True},
    "blocklisted": {"blocklisted": True},
    "too_many": {"smtp_too_many": True},
    # dual-stack hosts whose IPv6 address drops the mail ports: only inside a network
    # namespace the test creates (tests/peers/netns.py), where the conversation runs too
    "ipv6_broken": {"ipv6_broken": True},
}
NETNS_WORLDS = frozenset({"ipv6_broken"})
NETNS_SKIP = "needs root, ip and nft to create a network namespace (tests/peers/netns.py)"

# Answers that point the client at a fault of the healthy world ("$name" = world.ports[name]).
DEAD_HOST = "dead.example.test"  # resolves to 127.0.0.3, where nothing listens
OUT_NXDOMAIN = {"outgoing_server": "smtpx.example.test"}
IN_NXDOMAIN = {"incoming_server": "imapx.example.test"}
OUT_FILTERED = {"outgoing_port": "$filtered"}
IN_FILTERED = {"incoming_port": "$filtered2"}
OUT_REFUSED = {"outgoing_port": "$refused"}
IN_REFUSED = {"incoming_port": "$refused2"}
OUT_DEAD = {"outgoing_server": DEAD_HOST}
IN_DEAD = {"incoming_server": DEAD_HOST}
OUT_TLS = {"outgoing_security": "ssl"}  # implicit TLS spoken to the STARTTLS port
IN_TLS = {"incoming_security": "starttls"}  # STARTTLS spoken to the IMAPS port
WRONG_PASSWORD = {"password": "not the password"}
POP3_LOCKED = {"incoming_protocol": "pop3", "incoming_server": "pop.example.test",
               "incoming_port": "$pop3s_locked", "incoming_security": "ssl"}
POP3_OK = {"incoming_protocol": "pop3", "incoming_server": "pop.example.test",
           "incoming_port": "$pop3s", "incoming_security": "ssl"}
NO_AUTH = {"outgoing_auth": "false"}
# the fault Dovecot's accounts: app-password reason, full quota, connection limit reached
IN_APPPW = {"email": APPPW, "username": APPPW, "incoming_port": "$faults_imaps"}
IN_FULL = {"email": FULL, "username": FULL, "incoming_port": "$faults_imaps"}
IN_BUSY = {"email": BUSY, "username": BUSY, "incoming_port": "$faults_imaps"}
OUT_PLAIN = {"outgoing_security": "none"}  # the submission port wants STARTTLS first
IN_PLAIN = {"incoming_port": "$imap", "incoming_security": "none"}  # LOGINDISABLED


@dataclass(frozen=True)
class Case:
    """One conversation: a flow, the fault, the answers and what it must conclude."""

    flow: str
    expected: str  # outcome.diagnosis
    world: str = "healthy"
    answers: Mapping[str, str | None] = field(default_factory=dict)  # None removes a slot
    stdin: str = ""  # lines typed after the answers (for flow-local questions)

    @property
    def id(self) -> str:
        return f"{self.flow}-{self.expected}"


def _side_cases(flow: str, side: str, stdin_in: str = "", stdin_out: str = "") -> list[Case]:
    """The network, TLS and login faults of one side (`in` or `out`)."""
    out = side == "out"
    s = stdin_out if out else stdin_in
    return [
        Case(flow, "dns_not_found", answers=OUT_NXDOMAIN if out else IN_NXDOMAIN, stdin=s),
        Case(flow, "dns_unavailable", "dns_down", stdin=s),
        Case(flow, "port_blocked", answers=OUT_FILTERED if out else IN_FILTERED, stdin=s),
        Case(flow, "port_closed", answers=OUT_REFUSED if out else IN_REFUSED, stdin=s),
        Case(flow, "server_unreachable", answers=OUT_DEAD if out else IN_DEAD, stdin=s),
        Case(flow, "tls_mode_mismatch", answers=OUT_TLS if out else IN_TLS, stdin=s),
        Case(flow, "certificate_untrusted", "unknown_ca", stdin=s),
        Case(flow, "certificate_name_mismatch", "wrong_name", stdin=s),
        Case(flow, "certificate_expired", "expired", stdin=s),
        Case(flow, "auth_wrong_password", answers=WRONG_PASSWORD, stdin=s),
        Case(flow, "auth_username_format", "localpart", stdin=s),
        Case(flow, "auth_oauth_required", "oauth", stdin=s),
    ]


def _new_fault_cases(flow: str, receiving: str = "", sending: str = "",
                     sides: str = "both") -> list[Case]:
    """Issue 12's faults: incoming ones on the receiving side, the DNSBL on sending."""
    if sides == "out":
        return [
            Case(flow, "auth_app_password_required", "app_password", stdin=sending),
            Case(flow, "encryption_required", answers=OUT_PLAIN, stdin=sending),
            Case(flow, "sender_blocklisted", "blocklisted", stdin=sending),
            Case(flow, "too_many_connections", "too_many", stdin=sending),
        ]
    cases = [
        Case(flow, "auth_app_password_required", "app_password", answers=IN_APPPW,
             stdin=receiving),
        Case(flow, "encryption_required", answers=IN_PLAIN, stdin=receiving),
        Case(flow, "mailbox_over_quota", "faults", answers=IN_FULL, stdin=receiving),
        Case(flow, "too_many_connections", "faults", answers=IN_BUSY, stdin=receiving),
    ]
    if sides == "both":
        cases.append(Case(flow, "sender_blocklisted", "blocklisted", stdin=sending))
    return cases


def _cases() -> list[Case]:
    cases: list[Case] = []
    # issue 12 failing input 8: the app hangs on IPv6 while IPv4 works ("fine on Wi-Fi")
    cases += [Case("outbox_stuck", "ipv6_path_broken", "ipv6_broken"),
              Case("cannot_receive", "ipv6_path_broken", "ipv6_broken")]
    for flow, receiving in (("auth_failed", "receiving\n"), ("connection_timeout", "receiving\n"),
                            ("certificate_warning", "receiving\n"), ("account_setup", "yes\n")):
        cases.append(Case(flow, "ipv6_path_broken", "ipv6_broken", stdin=receiving))
    cases += _new_fault_cases("outbox_stuck", sides="out")
    cases += _new_fault_cases("cannot_receive", sides="in")
    for flow, receiving, sending in (
        ("auth_failed", "receiving\n", "sending\n"),
        ("connection_timeout", "receiving\n", "sending\n"),
        ("certificate_warning", "receiving\n", "sending\n"),
        ("account_setup", "yes\n", "yes\n"),
    ):
        cases += _new_fault_cases(flow, receiving, sending)
    # outgoing-only flow
    cases += _side_cases("outbox_stuck", "out")
    cases += [
        Case("outbox_stuck", "ok"),
        Case("outbox_stuck", "auth_mechanism_unsupported", "cram_md5"),
        Case("outbox_stuck", "smtp_auth_required", answers=NO_AUTH),
    ]
    # incoming-only flow
    cases += _side_cases("cannot_receive", "in")
    cases += [
        Case("cannot_receive", "ok"),
        Case("cannot_receive", "mailbox_locked", "pop3_locked", answers=POP3_LOCKED),
    ]
    # flows that test the side the customer names (a flow-local question, typed on stdin),
    # and account setup, which tests both sides after a "yes" to its offer
    for flow, receiving, sending in (
        ("auth_failed", "receiving\n", "sending\n"),
        ("connection_timeout", "receiving\n", "sending\n"),
        ("certificate_warning", "receiving\n", "sending\n"),
        ("account_setup", "yes\n", "yes\n"),
    ):
        cases += _side_cases(flow, "in", stdin_in=receiving)
        cases += [
            Case(flow, "ok", stdin=receiving),
            Case(flow, "auth_mechanism_unsupported", "cram_md5", stdin=sending),
            Case(flow, "smtp_auth_required", answers=NO_AUTH, stdin=sending),
            Case(flow, "mailbox_locked", "pop3_locked", answers=POP3_LOCKED, stdin=receiving),
        ]
    cases += [
        Case("outgoing_rejected", "smtp_auth_required", answers=NO_AUTH,
             stdin="relay denied\n"),
        Case("outgoing_rejected", "ok", stdin="rejected as spam\n"),
        Case("duplicate_messages", "ok", answers=POP3_OK),
        Case("duplicate_messages", "mailbox_locked", "pop3_locked", answers=POP3_LOCKED),
        Case("large_mailbox", "ok"),
        Case("large_mailbox", "mailbox_locked", "pop3_locked", answers=POP3_LOCKED),
        # a storage-rule provider's quota read on the real Dovecot (the storage path)
        Case("large_mailbox", "mailbox_over_quota", "faults",
             answers={"email": "carol@icloud.com", "username": FULL,
                      "incoming_port": "$faults_imaps"}),
    ]
    return cases


CASES = _cases()


@dataclass
class ChatResult:
    """What one `deskbot chat` run left behind."""

    returncode: int
    stdout: str
    stderr: str
    transcript: dict[str, Any]


def _answers_for(world: MailWorld, case: Case) -> dict[str, str]:
    overrides: dict[str, object] = {}
    for key, value in case.answers.items():
        if isinstance(value, str) and value.startswith("$"):
            overrides[key] = world.ports[value[1:]]
        else:
            overrides[key] = value
    answers = world.answers(**overrides)
    answers["message"] = MESSAGES[case.flow]
    answers.setdefault("client", "Thunderbird")
    if case.answers.get("client", "") is None:
        answers.pop("client")
    return answers


def run_chat(world: MailWorld, case: Case, folder: Path,
             prefix: Sequence[str] = ()) -> ChatResult:
    """One conversation as the CONTRACT's `deskbot chat` subprocess (`prefix` runs it inside
    a network namespace: `ip netns exec NAME`)."""
    folder.mkdir(parents=True, exist_ok=True)
    answers_path, transcript_path = folder / "answers.yaml", folder / "transcript.json"
    answers_path.write_text(yaml.safe_dump(_answers_for(world, case)), encoding="utf-8")
    proc = subprocess.run(
        [*prefix, *DESKBOT, "chat", "--answers", str(answers_path), "--config",
         str(world.config_path), "--transcript", str(transcript_path)],
        input=case.stdin, capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    transcript: dict[str, Any] = {}
    if transcript_path.exists():
        transcript = json.loads(transcript_path.read_text(encoding="utf-8"))
    return ChatResult(proc.returncode, proc.stdout, proc.stderr, transcript)


def _logs_into_dovecot_pop3(case: Case) -> bool:
    # Two POP3 logins to one Dovecot mailbox lock each other out (Dovecot then waits ~10 s):
    # those cases run one at a time. The locked-mailbox stub is not Dovecot.
    pop3 = case.answers.get("incoming_protocol", "imap") in (None, "pop3")
    return pop3 and case.answers.get("incoming_port") != "$pop3s_locked"


class Results:
    """Runs every case once, all worlds up at the same time, a few conversations at a time."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.done: dict[str, ChatResult] = {}

    def get(self, case: Case) -> ChatResult:
        if not self.done:
            self._run_all()
        return self.done[case.id]

    def _run_all(self) -> None:
        worlds: dict[str, MailWorld] = {}
        namespace: NetNamespace | None = None
        cases = [c for c in CASES if c.world not in NETNS_WORLDS or netns_available()]
        try:
            for name in sorted({c.world for c in cases}):
                if name in NETNS_WORLDS:
                    namespace = namespace or NetNamespace().__enter__()
                worlds[name] = start_world(name, namespace if name in NETNS_WORLDS else None)
            serial = [c for c in cases if _logs_into_dovecot_pop3(c)]
            parallel = [c for c in cases if c not in serial]

            def run(case: Case) -> tuple[Case, ChatResult]:
                prefix = namespace.prefix if namespace and case.world in NETNS_WORLDS else ()
                return case, run_chat(worlds[case.world], case, self.tmp / case.id, prefix)

            with ThreadPoolExecutor(max_workers=4) as pool:
                self.done.update((c.id, r) for c, r in pool.map(run, parallel))
            self.done.update((c.id, r) for c, r in map(run, serial))
        finally:
            for name, world in worlds.items():
                if name in NETNS_WORLDS and namespace is not None:
                    namespace.call(world.stop)
                else:
                    world.stop()
            if namespace is not None:
                namespace.__exit__()


def start_world(name: str, namespace: NetNamespace | None = None) -> MailWorld:
    """The world of WORLDS[name] with the dead host added; started inside `namespace` (its
    sockets and Dovecot live there) when given."""

    def start() -> MailWorld:
        world = MailWorld(WorldOptions(**WORLDS[name])).start()
        world.zone.set(DEAD_HOST, "A", "127.0.0.3")
        return world

    return namespace.call(start) if namespace is not None else start()


@pytest.fixture(scope="module")
def results() -> Iterator[Results]:
    with tempfile.TemporaryDirectory(prefix="deskbot-flows-") as tmp:
        yield Results(Path(tmp))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_flow_reaches_diagnosis(results: Results, case: Case) -> None:
    if case.world in NETNS_WORLDS and not netns_available():
        pytest.skip(NETNS_SKIP)
    result = results.get(case)
    assert result.returncode == 0, result.stderr
    outcome = result.transcript.get("outcome", {})
    assert outcome.get("symptom") == case.flow, (outcome, result.stdout[-2000:])
    assert outcome.get("diagnosis") == case.expected, (outcome, result.stdout[-3000:])
    assert outcome.get("status") == "resolved"
    # the fix names real values: every placeholder of the fix text found something to show
    fix = [t for t in result.transcript["turns"] if t.get("role") == "bot"][-1]["text"]
    assert "(unknown)" not in fix, fix
    # the password given as consent never lands in the transcript or the output
    password = _answers_for_password(case)
    assert password not in json.dumps(result.transcript)
    assert password not in result.stdout


def _answers_for_password(case: Case) -> str:
    value = case.answers.get("password")
    return value if isinstance(value, str) else "correct horse"


# --- the table covers every reachable pair ------------------------------------------------


def reachable_diagnoses(flowset: FlowSet, flow: Flow, seen: set[str] | None = None) -> set[str]:
    """Every diagnosis code a resolve node reachable from the flow's start records."""
    seen = set() if seen is None else seen
    if flow.id in seen:
        return set()
    seen.add(flow.id)
    out: set[str] = set()
    todo, visited = [flow.start], set()
    while todo:
        name = todo.pop()
        if name in visited or name not in flow.nodes:
            continue
        visited.add(name)
        node = flow.nodes[name]
        if node.kind == "resolve":
            out.add(node.diagnosis)
        if node.kind == "call":
            out |= reachable_diagnoses(flowset, flowset.subflows[node.subflow], seen)
        todo += [dest for _, dest in node.edges()]
    return out


# Codes that no probe produces yet: their fix texts are proven with played-back reports
# (tests/test_check_server.py) until a real peer produces them and a case joins CASES.
AWAITING_PRODUCER: frozenset[str] = frozenset()


# Flows none of whose probes tests the customer's own settings (missing_on_other_devices asks
# only whether the provider offers IMAP, with the customer's server blanked): their `resolve: ok`
# endings are advice and record no diagnosis (diagnoses.yaml: ok is about the user's own
# settings), so `ok` is not a pair they reach (tests/test_honest_outcomes.py).
NEVER_OK = frozenset({"missing_on_other_devices"})


def test_every_reachable_pair_has_a_case() -> None:
    flowset = load_flows(FLOWS)
    tested_codes = {c.expected for c in CASES}
    reachable = {(f.id, code) for f in flowset.flows.values()
                 for code in reachable_diagnoses(flowset, f)
                 if code not in AWAITING_PRODUCER - tested_codes
                 and not (code == "ok" and f.id in NEVER_OK)}
    tested = {(c.flow, c.expected) for c in CASES}
    assert reachable - tested == set(), "pairs without a test"
    assert tested - reachable == set(), "tests for pairs no flow can reach"


# --- the flows as shipped -----------------------------------------------------------------


def test_bundled_flows_pass_the_check() -> None:
    proc = subprocess.run([*DESKBOT, "flows", "check", str(FLOWS)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ": " not in proc.stdout.replace("flows OK", ""), proc.stdout


def _turns_without_timing(transcript: Mapping[str, Any]) -> list[Any]:
    """The turns with measured durations and clock times left out (they differ per run)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if k not in ("ms", "at", "time", "started", "elapsed", "timestamp")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return [strip(turn) for turn in transcript.get("turns", [])]


def test_same_inputs_give_the_same_turns(tmp_path: Path) -> None:
    case = Case("auth_failed", "auth_wrong_password", answers=WRONG_PASSWORD, stdin="sending\n")
    with MailWorld(WorldOptions(dovecot=False)) as world:
        first = run_chat(world, case, tmp_path / "first")
        second = run_chat(world, case, tmp_path / "second")
    assert first.transcript["outcome"]["diagnosis"] == "auth_wrong_password"
    assert _turns_without_timing(first.transcript) == _turns_without_timing(second.transcript)
    assert first.stdout == second.stdout
