"""Listening: every customer line fills the slots it states; a pasted server reply is evidence.

What a line says is kept in the session's slots, so it survives going back, saving and
restoring without state of its own:
- CONTRACT slots and the flows' `failing_side` / `bounce_reason` / `incoming_protocol`, only
  when not known yet (a help desk's context and earlier answers win);
- `doubt.<slot>`: values named with doubt ("port 25 or 26"), confirmed by one short question;
- `said.<fact>`: facts the customer states (`said.app_password_tried`, `said.platform` ...);
- `pasted.error` / `pasted.quote`: the best catalogued error text the customer pasted.
Keys with a dot are the engine's notes: never passed to probes, never asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping, Sequence

from bot.probes.model import ProbeReport
from bot.reading.errors import ErrorEntry, load_errors
from bot.reading.slots import extract

DOUBT, SAID, PASTED, QUOTE = "doubt.", "said.", "pasted.error", "pasted.quote"
# Outcomes that leave the question open: the probes could not see the cause. A decisive pasted
# reply then stands on its own (outcome.basis "reply").
# "recommended_ok": only the catalogue's settings were tested, so the customer's own app's
# reply says more about their settings than the probes could
UNDECIDED = frozenset({"inconclusive", "dns_unavailable", "server_unreachable", "recommended_ok"})
# From the help desk's server the customer's own network path is invisible.
UNSEEN_FROM_SERVER = frozenset({"port_blocked", "port_closed", "ipv6_path_broken", "ok"})
# Causes an `ok` from the probes cannot rule out without a login (or at all, for a blocklist
# of the customer's own address): a decisive pasted reply for them outweighs that `ok`.
BLIND_WITHOUT_LOGIN = frozenset({
    "auth_oauth_required", "auth_app_password_required", "mailbox_locked",
    "too_many_connections", "mailbox_over_quota",
})
# Causes a message only shows when the app never reached the server: an error whose
# hypotheses name none of them came from the server itself (or its bounce).
_UNREACHED = frozenset({"dns_not_found", "dns_unavailable", "port_blocked", "port_closed",
                        "server_unreachable", "ipv6_path_broken"})
UNSEEN_HERE = "unseen_here"  # report fact: deskbot's own DNS failed, the customer's did not
_SIDE_SLOTS = {"outgoing": ("outgoing_server", "outgoing_port", "outgoing_security"),
               "incoming": ("incoming_server", "incoming_port", "incoming_security")}


def hear(slots: MutableMapping[str, str], text: str, apps: Mapping[str, str],
         asked: str | None = None, choosing: bool = False) -> set[str]:
    """Fill `slots` from one customer line (never the slot being asked: its answer parser
    reads it) and return the slots it filled. `apps` maps lower-case app aliases to client
    keys. `choosing`: the line answers a choice question, where an option's words ("relay
    denied") are a pick, not a pasted reply; only a quoted code counts there."""
    found = extract(text, apps)
    filled: set[str] = set()
    for slot, value in found.slots.items():
        if slot != asked and slot not in slots:
            slots[slot] = value
            slots.pop(DOUBT + slot, None)
            filled.add(slot)
    for slot, values in found.doubtful.items():
        if slot != asked and slot not in slots:
            slots[DOUBT + slot] = " or ".join(values)
    for fact, value in found.facts.items():
        slots.setdefault(SAID + fact, value)
    evidence = [m for m in found.errors if (m.coded if choosing else m.quoted)]
    if evidence and PASTED not in slots:
        slots[PASTED] = evidence[0].entry.id
        slots[QUOTE] = evidence[0].quote
    return filled


def probe_params(slots: Mapping[str, str]) -> dict[str, str]:
    """The slots a probe may read (the engine's notes left out)."""
    return {k: v for k, v in slots.items() if "." not in k}


def confirm_prompt(slot: str, slots: Mapping[str, str]) -> str | None:
    """One short question confirming a value named with doubt, or None."""
    doubt = slots.get(DOUBT + slot)
    if not doubt:
        return None
    what = slot.replace("_", " ").replace("outgoing", "outgoing (SMTP)")
    return f"You mentioned {doubt}: which one is your app's {what} set to?"


def pasted_entry(slots: Mapping[str, str]) -> ErrorEntry | None:
    """The catalogue entry of the error text the customer pasted, if any."""
    name = slots.get(PASTED)
    return next((e for e in load_errors().entries if e.id == name), None) if name else None


def reply_decides(probe: str, outcome: str, slots: Mapping[str, str], vantage: str,
                  handled: frozenset[str], logged_in: bool = False) -> ErrorEntry | None:
    """The pasted entry whose diagnosis stands in for a probe outcome that cannot decide.

    Only a decisive entry (the text alone proves it), for the side the probe tested, whose
    diagnosis the flow node handles; and only when the probes saw nothing better: no answer
    at all, or (from the server) nothing of the customer's own network. An `ok` stands unless
    it could not have seen the cause (a login refusal when no login was tried, a blocklist).
    """
    entry = pasted_entry(slots)
    if entry is None or entry.diagnosis is None or entry.diagnosis not in handled:
        return None
    if not _same_side(probe, dict(entry.slots).get("failing_side")):
        return None
    open_question = outcome in UNDECIDED or (vantage == "server" and outcome in UNSEEN_FROM_SERVER)
    if outcome == "ok" and (entry.diagnosis == "sender_blocklisted" or (
            entry.diagnosis in BLIND_WITHOUT_LOGIN and not logged_in)):
        open_question = True  # the probes could not have seen it
    return entry if open_question else None


def _same_side(probe: str, side: str | None) -> bool:
    if side is None or side == "both":
        return True
    sending = "outgoing" in probe or "relay" in probe
    receiving = "incoming" in probe
    if not sending and not receiving:
        return True
    return sending if side == "sending" else receiving


def as_reply_evidence(report: ProbeReport, entry: ErrorEntry, quote: str) -> ProbeReport:
    """A copy of a probe report whose outcome is the pasted reply's diagnosis, marked
    `basis: reply` (what the transcript's outcome.basis reports)."""
    assert entry.diagnosis is not None
    facts = {**report.facts, "basis": "reply", "server_reply": quote}
    notes = (*report.notes,
             f"your app's error says: {quote} ({entry.meaning}; source: {entry.source})")
    return dataclasses.replace(report, outcome=entry.diagnosis, facts=facts, notes=notes)


def lead(diagnosis: str | None, reply_based: bool, slots: Mapping[str, str]) -> str:
    """The first sentence of an answer when the customer pasted an error: it says whether the
    cause rests on that message or on the tests."""
    entry = pasted_entry(slots)
    if entry is None or diagnosis in (None, "ok"):
        return ""  # advice, not a proven cause: nothing to weigh the error against
    quote = slots.get(QUOTE, "")
    if reply_based:
        return (f"Your app's error says “{quote}”: {entry.meaning}. I could not test this "
                f"from here, so this answer rests on that message.")
    if diagnosis in entry.hypotheses:
        return ("I tested it from here, and the test agrees with your app's error "
                f"({entry.meaning}).")
    return (f"I tested it from here: your app's error (“{quote}”) pointed elsewhere, but the "
            "test shows this.")


def settings_of(slots: Mapping[str, str], side: str) -> dict[str, str]:
    """The customer's stated settings for one side (server, port, security), as given."""
    return {k.split("_", 1)[1]: slots[k] for k in _SIDE_SLOTS[side] if k in slots}


def reached_server(slots: Mapping[str, str]) -> str | None:
    """How the customer showed that their own network reaches the mail server, as words for
    the answer, or None: a server reply they pasted (an error whose causes are none of the
    connection ones), or their statement that webmail works."""
    entry = pasted_entry(slots)
    if entry is not None and not _UNREACHED & {*entry.hypotheses, entry.diagnosis}:
        return f"your app got a reply from the server (“{slots.get(QUOTE, '')}”)"
    if SAID + "webmail_works" in slots:
        return "you said it works on webmail"
    return None


def unseen_here(report: ProbeReport, how: str, oauth_only: bool) -> ProbeReport:
    """A copy of a `dns_unavailable` report from the customer's side when the customer showed
    (`how`, from `reached_server`) that their network reaches the server: the failed lookup
    is this test's problem, not theirs. The outcome is `auth_oauth_required` (basis
    catalogue) for a provider the catalogue knows as OAuth-only, else `inconclusive`."""
    note = (f"no DNS answer from here, but {how}: the customer's network reaches the server, "
            "so the failed lookup says nothing about it")
    facts = {**report.facts, UNSEEN_HERE: how}
    if oauth_only:
        facts["basis"] = "catalogue"
        note += "; the catalogue says this provider accepts only OAuth2 from mail apps"
    if not oauth_only:
        return dataclasses.replace(report, outcome="inconclusive", facts=facts,
                                   notes=(*report.notes, note), diagnoses=())
    return dataclasses.replace(report, outcome="auth_oauth_required", facts=facts,
                               notes=(*report.notes, note), diagnoses=("auth_oauth_required",))


def unseen_lead(evidence: Sequence[ProbeReport], slots: Mapping[str, str]) -> str:
    """The opening of an answer that rests on `unseen_here` evidence, or ""."""
    how = next((r.facts[UNSEEN_HERE] for r in reversed(evidence) if UNSEEN_HERE in r.facts),
               None)
    if how is None:
        return ""
    lead = (f"I could not check the server from here: this computer got no answer when it "
            f"looked up the server's name (DNS). But {how}, so your own internet connection "
            "reaches it: the problem is not your network or your router.")
    entry = pasted_entry(slots)
    if entry is not None and entry.diagnosis is None:
        lead += f" Your app's error means {entry.meaning}."
    return lead
