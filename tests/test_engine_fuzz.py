"""Random conversations through the bundled flows never crash and always reach an outcome."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot import Engine, Question, RecordedProbeRunner
from bot.catalog.model import Provider
from bot.diagnoses import CODES, as_code
from bot.engine import Role
from bot.probes.model import ProbeReport
from bot.registry import PROBES

FLOWS = Path(__file__).resolve().parent.parent / "flows"
LINES = [
    "my mail is stuck in the outbox", "it keeps asking for my password", "I don't know",
    "go back", "start over", "yes", "no", "1", "2", "3", "bob@example.com", "587", "STARTTLS",
    "SSL/TLS", "imap", "pop3", "Outlook 2016", "thunderbird", "", "🙂", "\x07\x1b[0m",
    "mail.example.com", "what's the weather", "I get a certificate warning", "x" * 3000,
]


def answer(rng: random.Random, question: Question | None) -> str:
    if question is not None and question.secret:
        return "s3cret-pass"
    return rng.choice(LINES)


def runner(rng: random.Random, provider: Provider | None) -> RecordedProbeRunner:
    """Random outcomes, each carrying only what the diagnosis table guarantees for it (and,
    as real reports do, only diagnosis codes: lookup_provider's `found` is none)."""
    reports = [ProbeReport(name, "mail.example.com:587", outcome, (),
                           (as_code(outcome),) if outcome in CODES else (),
                           {f: f"{f}-value" for f in info.guaranteed_facts(outcome)},
                           _provider_of(name, outcome, provider, rng))
               for name, info in sorted(PROBES.items())
               for outcome in rng.sample(sorted(info.outcomes), k=min(6, len(info.outcomes)))]
    rng.shuffle(reports)
    return RecordedProbeRunner(reports)


def _provider_of(name: str, outcome: str, provider: Provider | None,
                 rng: random.Random) -> Provider | None:
    """lookup_provider → found always names one; a check names one only when it knew it."""
    if name == "lookup_provider":
        return (provider or CATALOGUED) if outcome == "found" else None
    return provider if rng.random() < 0.5 else None


@pytest.fixture(scope="module")
def bundled() -> Engine:
    return Engine.load(FLOWS, runner=RecordedProbeRunner())


# One address whose provider is in the bundled catalogue, one whose provider is not.
ADDRESSES = ("bob@centurylink.net", "bob@example.com")
CATALOGUED = Engine.load(FLOWS, runner=RecordedProbeRunner()).provider_for(ADDRESSES[0])


@pytest.mark.parametrize("seed", range(40))
async def test_random_conversation(bundled: Engine, seed: int) -> None:
    rng = random.Random(seed)
    email = ADDRESSES[seed % 2]
    provider = bundled.provider_for(email)
    engine = bundled.with_runner(runner(rng, provider))
    session = engine.start({"email": email} if seed % 4 < 2 else {})
    reply = await session.open()
    for _ in range(rng.randrange(3, 25)):
        if reply.outcome is not None:
            break
        reply = await session.send(answer(rng, reply.question))
        assert reply.messages
    if seed % 3 == 0:  # save and continue elsewhere half-way through
        session = bundled.with_runner(runner(rng, provider)).restore(
            json.loads(json.dumps(session.to_dict())))
    reply = await session.finish()
    assert session.outcome is not None
    assert session.outcome.status in ("resolved", "handoff", "abandoned")
    assert "s3cret-pass" not in json.dumps(session.transcript().to_dict())
    said = [t.text or "" for t in session.turns if t.role is Role.BOT]
    assert not [t for t in said if "(unknown)" in t], said


def _decisive_examples() -> list[tuple[str, str]]:
    """(id, example) of every error-catalogue entry whose text alone proves a diagnosis."""
    from importlib import resources

    import yaml

    text = resources.files("bot.data").joinpath("errors.yaml").read_text(encoding="utf-8")
    return [(e["id"], e["example"]) for e in yaml.safe_load(text)["errors"]
            if e.get("diagnosis")]


@pytest.mark.parametrize("entry, example", _decisive_examples())
async def test_a_pasted_reply_alone_never_shows_unknown(bundled: Engine, entry: str,
                                                        example: str) -> None:
    """When nothing could be tested (every check inconclusive, no facts, no provider) a
    decisive pasted reply may carry the answer on its own: the fix text it leads to must
    still read whole, with no "(unknown)" where a probe's fact would have been."""
    reports = [ProbeReport(name, "mail.nocat.test:587", "inconclusive", (), ("inconclusive",),
                           {}, None)
               for name in sorted(PROBES) for _ in range(4)]
    engine = bundled.with_runner(RecordedProbeRunner(reports))
    session = engine.start({"email": "bob@nocat.test"})
    reply = await session.open()
    reply = await session.send(f"my mail app says: {example}")
    shown = [m.text for m in reply.messages]
    for _ in range(20):
        if reply.outcome is not None:
            break
        reply = await session.send("I don't know")
        shown += [m.text for m in reply.messages]
    reply = await session.finish()
    shown += [m.text for m in reply.messages]
    assert session.outcome is not None
    assert not [t for t in shown if "(unknown)" in t], (entry, session.outcome)
