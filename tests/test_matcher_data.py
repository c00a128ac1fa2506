"""The matcher is generic: knowledge lives in flow files and the shared vocabulary."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.flows.bundled import default_flows_dir
from bot.matcher import Matcher, MatchSpec, Vocabulary
from bot.matcher.vocabulary import tokenize

AUTOREPLY_FLOW = """\
id: autoreply_broken
title: "The out-of-office auto-reply does not go out"
match:
  examples:
    - "my out of office reply is not working"
    - "the vacation responder does not answer people"
    - "autoreply not sent while I was away"
    - "people don't get my out of office message"
    - "my away message isn't going out"
    - "auto reply stopped working"
    - "vacation responder is broken"
    - "how do I fix my out of office"
start: todo
nodes:
  todo: {handoff: "Not written yet."}
"""


@pytest.fixture
def flows_with_an_eleventh(tmp_path: Path) -> Path:
    for file in default_flows_dir().glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "autoreply_broken.yaml").write_text(AUTOREPLY_FLOW, encoding="utf-8")
    vocabulary = yaml.safe_load((tmp_path / "_vocabulary.yaml").read_text(encoding="utf-8"))
    vocabulary["synonyms"]["autoreply"] = ["auto reply", "auto-reply", "automatic reply"]
    vocabulary["anchors"]["autoreply"] = 1.0  # the new flow's own e-mail word
    (tmp_path / "_vocabulary.yaml").write_text(yaml.safe_dump(vocabulary), encoding="utf-8")
    return tmp_path


def test_an_eleventh_flow_is_matched_without_code_change(flows_with_an_eleventh: Path) -> None:
    matcher = Matcher.from_flows_dir(flows_with_an_eleventh)
    assert "autoreply_broken" in matcher.ids
    # typo, a vocabulary variant, and a word ("vacation") the shared list calls off-topic
    assert matcher.match("my out of ofice auto-reply stopped").decision == "autoreply_broken"
    assert matcher.match("the vacation responder on my email is broken").decision == (
        "autoreply_broken"
    )
    # the ten bundled flows still work beside it
    assert matcher.match("emails stuck in my outbox").decision == "outbox_stuck"


def test_without_the_new_flow_the_same_text_is_not_routed() -> None:
    matcher = Matcher.from_flows_dir(default_flows_dir())
    assert matcher.match("my out of office reply is not working").decision in ("none", "clarify")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"phrases": "cannot send"}, "match.phrases: expected a list"),
        ({"phrases": ["ok", 3]}, "match.phrases[1]"),
        ({"keywords": ["outbox"]}, "match.keywords: expected a mapping"),
        ({"keywords": {"outbox": "high"}}, "match.keywords.outbox: weight must be a number"),
        ({"keywords": {"outbox": 50}}, "outside -10..10"),
        ({"phrase": []}, "unknown key(s) phrase"),
        ({"examples": ["ok", ""]}, "match.examples[1]: expected a non-empty sentence"),
        ({"explains": "cannot_receive"}, "match.explains: expected a list of flow ids"),
    ],
)
def test_malformed_match_blocks_say_what_is_wrong(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        MatchSpec.from_mapping(raw, title="t")


def test_a_match_block_keeps_its_data() -> None:
    spec = MatchSpec.from_mapping(
        {"examples": ["mail stuck"], "phrases": ["older name"], "keywords": {"outbox": 4}},
        title="Outbox",
    )
    assert spec.title == "Outbox"
    assert spec.examples == ("mail stuck", "older name")
    assert dict(spec.keywords) == {"outbox": 4.0}


def test_a_repeated_example_is_refused_with_its_position() -> None:
    with pytest.raises(ValueError, match=re.escape("match.examples[2]: 'Mail stuck' is listed")):
        MatchSpec.from_mapping({"examples": ["mail stuck", "outbox", "Mail stuck"]}, title="t")


def test_other_languages_are_none_and_named() -> None:
    matcher = Matcher.from_flows_dir(default_flows_dir())
    for text, language in [
        ("no me llegan los correos desde ayer", "Spanish"),
        ("ich kann seit heute keine Nachrichten senden", "German"),
        # e-mail words every language uses do not make a line English; accents are folded
        ("mijn e-mail wordt niet verzonden", "Dutch"),
        ("non ricevo più le email sul telefono", "Italian"),
        ("não consigo configurar meu e-mail no celular", "Portuguese"),
        ("Outlook fragt ständig nach dem Passwort", "German"),
        ("nie mogę wysłać poczty z telefonu", "Polish"),
        # short lines, the app's own words: "sends not", "keeps asking for the password"
        ("Outlook sendet nicht", "German"),
        ("Outlook continua a chiedere la password", "Italian"),
        ("certificat invalide Outlook", "French"),
        ("Jag kan inte skicka mejl från Outlook", "Swedish"),
        ("Tôi không nhận được email", "Vietnamese"),
        ("Saya tidak bisa menerima email", "Indonesian"),
        ("Outlook şifremi sürekli soruyor", "Turkish"),
        ("En voi lähettää sähköpostia", "Finnish"),
        # other scripts are named by their script
        ("не могу отправить почту в Outlook", "Cyrillic script"),
        ("δεν μπορώ να στείλω email", "Greek"),
        ("我的邮件发不出去", "Chinese or Japanese"),
    ]:
        result = matcher.match(text)
        assert (result.decision, result.language) == ("none", language)
    for english in (
        "the message says el servidor no responde",  # a quoted reply inside English
        "sending an email gives me an error",  # "an" is English too
        "my email is on the Bodensee server",
        # what the app showed, quoted, is not the customer's language
        "Outlook says 'Der Server hat die Verbindung abgelehnt'",
        'the error message is in Dutch: "Kan geen verbinding maken met de server"',
        "I'm in São Paulo and can't receive mail",
        'When I send mail I get the error "Не удалось отправить сообщение"',  # any script
        "ｍｙ　ｍａｉｌ　ｉｓ　ｓｔｕｃｋ ｉｎ ｔｈｅ ｏｕｔｂｏｘ",  # fullwidth Latin
    ):
        assert matcher.match(english).language is None, english


def test_vocabulary_repairs_spelling_but_leaves_real_words_alone() -> None:
    matcher = Matcher.from_flows_dir(default_flows_dir())
    assert matcher.normalize("I cant recieve e-mails") == ["i", "not", "receive", "mail"]
    assert "certificate" in matcher.normalize("certifcate")
    assert "send" not in matcher.normalize("how much did I spend")
    assert "relay" not in matcher.normalize("a related question")
    # a real English word is no typo of a mail word, however close ("collection" is not
    # "connection", "reputation" not "repetition", "useless" not "use less") ...
    for word in ("collection", "reputation", "recreating", "stack", "court", "useless"):
        assert matcher.normalize(f"the {word}") == ["the", word], word
    # ... though it may be another form of one ("queue" read as "queued")
    assert matcher.normalize("in the queue") == matcher.normalize("in the queued")
    # accents are folded, letters NFKD keeps whole too: one token each, not two halves
    assert tokenize("não wysłać ständig Straße") == ["nao", "wyslac", "standig", "strasse"]


def test_malformed_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="quote the word"):
        Vocabulary.from_mapping({"synonyms": {"not": [False]}})
    with pytest.raises(ValueError, match=r"synonyms\.mail"):
        Vocabulary.from_mapping({"synonyms": {"mail": "email"}})
    with pytest.raises(ValueError, match=r"offtopic\.bank"):
        Vocabulary.from_mapping({"offtopic": {"bank": "lots"}})


def test_every_bundled_flow_is_taught_by_forty_examples_or_more() -> None:
    matcher = Matcher.from_flows_dir(default_flows_dir())
    thin = {i: len(s.examples) for i, s in matcher.specs.items() if len(s.examples) < 40}
    assert not thin
    assert all(not s.keywords for s in matcher.specs.values())  # no hand weights left


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"foreign": {"Spanish": "el la"}}, "foreign.Spanish: expected a list"),
        ({"circumstances": [True]}, "quote the word"),
        ({"background": "tell me a joke"}, "background: expected a list"),
    ],
)
def test_malformed_vocabulary_sections_are_refused(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Vocabulary.from_mapping(raw)


def test_a_pasted_error_the_error_catalogue_knows_routes_to_its_flow() -> None:
    """The seam for the error catalogue (issue 11): text -> the symptom its error points at."""
    bundled = Matcher.from_flows_dir(default_flows_dir())
    line = "XYZ-1234 mailbox locked by another session"

    def catalogue(text: str) -> str | None:
        return "cannot_receive" if "XYZ-1234" in text else None

    with_catalogue = Matcher(bundled.specs, bundled.vocabulary, errors=catalogue)
    result = with_catalogue.match(line)
    assert result.decision == "cannot_receive"
    assert ("(pasted error)", 4.0) in result.evidence["cannot_receive"].keywords


def test_another_topic_as_the_subject_is_not_routed() -> None:
    """Without a word that is e-mail by itself, a bank, a calendar or a game server is the
    subject, however well the rest fits a flow; with one, the same words are e-mail."""
    matcher = Matcher.from_flows_dir(default_flows_dir())
    for text in (
        "can't log in to my bank account, password rejected",
        "my minecraft server keeps timing out",
        "outlook calendar won't sync with my phone",
        "google drive says quota exceeded",
        "teams messages arrive late",
        "my Wi-Fi password doesn't work",
        "how do I renew the certificate for my website",
        "NET::ERR_CERT_DATE_INVALID",
        "I can't log in to my online banking",  # "online" alone is webmail
    ):
        assert matcher.match(text).decision == "none", text
    assert matcher.match("can't log in to my email, password rejected").decision == "auth_failed"
    assert matcher.match("my mail server keeps timing out").decision == "connection_timeout"


def test_a_lone_answer_word_starts_no_flow() -> None:
    """"imap" is what a customer answers, not a problem, even where examples ask about it."""
    matcher = Matcher.from_flows_dir(default_flows_dir())
    for word in ("imap", "pop", "587"):
        assert matcher.match(word).decision in ("clarify", "none"), word


def test_misbehaving_words_name_no_symptom() -> None:
    """"gone crazy" is not "gone" (vanished), "messing up" is not "missing", "the update" of
    the software is not the inbox updating: such lines ask which problem it is."""
    matcher = Matcher.from_flows_dir(default_flows_dir())
    for text in (
        "outlook has gone crazy",
        "email keeps messing up",
        "email stopped working after the windows update",
        "need help with my bt email",
    ):
        assert matcher.match(text).decision == "clarify", text
    assert matcher.match("my inbox stopped updating").decision == "cannot_receive"


def test_a_word_vague_lines_share_names_no_symptom() -> None:
    """"wrong" is in "wrong password" and in "something is wrong with outlook": alone it asks
    which problem it is; with the word that names the symptom it starts the flow."""
    matcher = Matcher.from_flows_dir(default_flows_dir())
    assert matcher.match("something is wrong with gmail on my phone").decision == "clarify"
    assert matcher.match("my outlook is not right since last week").decision == "clarify"
    assert matcher.match("wrong password in outlook").decision == "auth_failed"


def test_a_key_listed_twice_in_the_vocabulary_is_refused_with_its_line(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys silently: a second `port:` synonym list would
    drop the first. The loader names the file, the line and the first one instead."""
    vocabulary = tmp_path / "_vocabulary.yaml"
    vocabulary.write_text("synonyms:\n  port: [ports]\n  mail: [email]\n  port: [remote port]\n")
    with pytest.raises(ValueError, match=r"_vocabulary\.yaml:4: .*'port' is listed twice "
                                         r"\(first on line 2\)"):
        Vocabulary.load(vocabulary)


def test_a_key_listed_twice_in_a_flow_folder_fails_flows_check(tmp_path: Path) -> None:
    """The bundle reads flows through bot.flows.yamlsafe: `deskbot flows check` names the
    file and line of a second `title:` or a second vocabulary section, and exits 1."""
    import subprocess
    import sys

    folder = tmp_path / "flows"
    shutil.copytree(default_flows_dir(), folder)
    outbox = folder / "outbox_stuck.yaml"
    outbox.write_text(outbox.read_text(encoding="utf-8").replace(
        "\ntitle: ", "\ntitle: Outbox\ntitle: ", 1), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bot", "flows", "check", str(folder)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert re.search(r"outbox_stuck\.yaml:\d+: .*'title' is listed twice", run.stdout + run.stderr)
