"""A password written into a sentence ("my password is …") is never kept, shown or used.

The customer types it before any password is known, so no earlier secret can match the line:
the phrasing itself gives it away. Driven through the three ways in (plain chat on stdin, the
HTTP service with its SQLite session store, the terminal on a pseudo-terminal), then every
file deskbot wrote is searched for the password; and the login test never ran with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.config import Config
from bot.engine.secrets import disclosed
from bot.interfaces.http import create_app

PASSWORD = "Hunter2!xQ7"
EMAIL = "alice@example.test"
TOLD = "Please don't type your password into the chat"
LINES = [
    "my mail is stuck in the outbox",
    f"my password is {PASSWORD}",  # at "What is your e-mail address?": nothing else in it
    EMAIL,
    f"pw: {PASSWORD} and I use Thunderbird",  # the answer is still read
    PASSWORD,  # and the bare value again, at "outgoing server?"
    "no",
    "no",  # no login test
]


def _config(tmp: Path) -> Path:
    path = tmp / "deskbot.toml"
    path.write_text(
        '[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n'
        f'[serve]\nsqlite_path = "{tmp / "sessions.db"}"\n', encoding="utf-8")
    return path


def assert_nowhere(root: Path) -> None:
    written = [p for p in root.rglob("*") if p.is_file() and p.name != "deskbot.toml"]
    assert written, "deskbot wrote nothing to search"
    for path in written:
        data = path.read_bytes()
        for form in (PASSWORD, "Hunter2"):
            assert form.encode() not in data, f"{path} holds the password"


@pytest.mark.parametrize(("line", "value"), [
    ("my password is Hunter2!x", "Hunter2!x"),
    ("pw: s3cr3t-Pass", "s3cr3t-Pass"),
    ("password = abc12345", "abc12345"),
    ("the password I use is Tr0ub4dor", "Tr0ub4dor"),
    ('my email password is "correct horse battery"', "correct horse battery"),
    ("Password is Tr0ub4dor&3.", "Tr0ub4dor&3"),
    # a word about it before the value, and looser shapes where the value looks like one
    ("Outlook rejects it, my password is now Zebra7-fakepw", "Zebra7-fakepw"),
    ("my password is still Zebra5-fakepw and it fails", "Zebra5-fakepw"),
    ("my password Zebra7-fakepw doesn't work", "Zebra7-fakepw"),
    ("I typed Zebra7-fakepw as my password", "Zebra7-fakepw"),
    ("re-entered the password (Zebra7-fakepw, twice)", "Zebra7-fakepw"),
    ("login: bob@example.com / Zebra7-fakepw", "Zebra7-fakepw"),
    ("my pw's Zebra7-fakepw", "Zebra7-fakepw"),
    # the second attack's phrasings: any password-like word of a line about a login
    ("Kq04-fakepw is my password but it fails", "Kq04-fakepw"),
    ("I tried Kq05-fakepw and Kq05b-fakepw", "Kq05b-fakepw"),
    ("user bob@example.com pass Kq06-fakepw", "Kq06-fakepw"),
    ("my old password was Kq18a-fakepw and the new one is Kq18b-fakepw", "Kq18b-fakepw"),
    ("I reset it to Kq25-fakepw", "Kq25-fakepw"),
    ("Passwort ist Kq31-fakepw", "Kq31-fakepw"),
    ("creds: bob / Kq68-fakepw", "Kq68-fakepw"),
    ("pw hunterfakeyy rejected", "hunterfakeyy"),  # right after "pw", a made-up word
    ("Gmail app password: kqzz wxyv tuqr spon", "kqzz wxyv tuqr spon"),  # Google's shape
    # the third attack's: made-up words where the line names them the password, more names
    ("zqfwaaa is my password and it won't log in", "zqfwaaa"),
    ("I changed it to zqfwaae and now thunderbird won't log in", "zqfwaae"),
    ("the password for my gmail is zqfwaal", "zqfwaal"),
    ("my password, zqfwaas, is rejected", "zqfwaas"),
    ("the new one is zqfwbbh", "zqfwbbh"),
    ("bob@example.com:zqcolonword", "zqcolonword"),
    ("password is probably zqfwaai", "zqfwaai"),
    ("mot de passe: zqfwaap", "zqfwaap"),
    ("my app password is zqab cdef ghij klmn", "zqab cdef ghij klmn"),
    ("zqab cdef ghij klmn", "zqab cdef ghij klmn"),
    ("I typed zq27@fakepw as the password", "zq27@fakepw"),
    ("password: [Zq15-fakepw] rejected by server", "Zq15-fakepw"),
    ("password -> zqfwaan", "zqfwaan"),
    ("I tried zqpass2024", "zqpass2024"),
])
def test_password_disclosing_phrasing_is_found_and_redacted(line: str, value: str) -> None:
    found = disclosed(line)
    assert found is not None and value in found.values
    assert value not in found.line and "[redacted]" in found.line


@pytest.mark.parametrize("line", [
    "my password is wrong", "my password is definitely correct", "password: not accepted",
    "my password is 12 characters long", "it keeps asking for my password",
    "I changed my password yesterday", "my password was reset last week",
    "password-reset did not help", "my password is still wrong",
    "password error 0x800CCC92 on smtp.gmail.com", "password for smtp.gmail.com keeps failing",
    "my password expired, error 5.7.139", "I typed my password as usual",
    # an app's words, codes and products are no password
    "Outlook says: Password: Outlook could not connect", "outlook pass-word prompt loops",
    "my password is right!", "password: 535-5.7.8 Username and Password not accepted",
    "password [AUTHENTICATIONFAILED] Invalid credentials", "pw - I forgot it, I think",
    "my password is out of date", "password: ********", "the password is case-sensitive",
    "I tried logging in on Outlook2016 and iPhone15 with SSL/TLS on port 993",
    "I tried smtp.gmail.com:587 with STARTTLS, login fails with 535 5.7.8",
    "since I turned on 2-step verification Outlook won't accept my password",
    "The IMAP server says my username or password isn't right",
    "my password is current", "my password is declined by outlook",
    "my password is failing in Outlook", "my password is requested every time",
    "signing in with Office365 fails with AADSTS50126", "since update KB5034441 my login fails",
    "I tried on my Pixel7a and it fails", "login fails on my SM-G991B",
    "I used outlook.office365.com:993/SSL and it fails", "password rejected, I use IMAP4rev1",
    "pw: see above", "password: (hidden)", "I tried Thunderbird and Outlook, neither works",
    "what time does your store close", "Enter password for info@mycompany keeps coming back",
])
def test_talk_about_a_password_is_not_a_password(line: str) -> None:
    assert disclosed(line) is None


def test_plain_chat_on_stdin(tmp_path: Path) -> None:
    """Input: "my password is Hunter2!xQ7" at the address question, then "pw: Hunter2!xQ7 and
    I use Thunderbird", then the bare value."""
    transcript = tmp_path / "t.json"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--config", str(_config(tmp_path)),
         "--transcript", str(transcript)],
        input="\n".join(LINES) + "\n", capture_output=True, text=True,
        timeout=120, check=False, env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert run.returncode == 0, run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert run.stdout.count(TOLD) == 2
    document = json.loads(transcript.read_text(encoding="utf-8"))
    users = [t.get("text") for t in document["turns"] if t["role"] == "user"]
    assert "my password is [redacted]" in users
    assert "pw: [redacted] and I use Thunderbird" in users
    # the answer around it was read ("Which mail app?" not asked again), no login was tried
    assert sum("Which mail app" in str(t.get("text")) for t in document["turns"]
               if t["role"] == "bot") == 1
    assert not any(t.get("login") for t in document["turns"] if t["role"] == "probe")
    assert_nowhere(tmp_path)


async def test_http_service_and_its_session_store(tmp_path: Path) -> None:
    """Input: the same lines through the HTTP service; and a help desk's ticket whose
    `message` writes the password out ("... my password is Hunter2!xQ7")."""
    app = create_app(Config.load(_config(tmp_path), serve_mode=True))
    shown: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://deskbot", timeout=60) as http:
        ticket = {"message": f"my mail is stuck in the outbox, my password is {PASSWORD}"}
        for context, lines in (({}, LINES), (ticket, LINES[2:])):
            res = await http.post("/v1/sessions", json={"context": context})
            assert res.status_code == 201, res.text
            shown.append(res.text)
            sid = res.json()["id"]
            for line in lines:
                res = await http.post(f"/v1/sessions/{sid}/messages", json={"text": line})
                assert res.status_code == 200, res.text
                shown.append(res.text)
                if res.json()["outcome"] is not None:
                    break
            shown.append((await http.get(f"/v1/sessions/{sid}/transcript")).text)
    everything = "".join(shown)
    assert TOLD in everything
    assert PASSWORD not in everything
    assert_nowhere(tmp_path)


def test_terminal_chat(tmp_path: Path) -> None:
    """Input: "my password is Hunter2!xQ7" typed in the terminal at the address question."""
    from tests.test_terminal_chat import PROMPT, Pty

    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", XDG_DATA_HOME=str(tmp_path / "xdg"),
               TERM="xterm-256color", NO_COLOR="1")
    pty = Pty(["chat", "--config", str(_config(tmp_path))], env)
    pty.expect("Describe it in your own words.")
    pty.expect(PROMPT)
    pty.child.send(LINES[0] + "\r")
    pty.answer("What is your e-mail address?", LINES[1])
    pty.expect("into the chat")
    pty.answer("What is your e-mail address?", LINES[2])
    pty.answer("Which mail app", "Thunderbird")
    pty.answer("outgoing (SMTP) server?", "no")
    pty.answer("Shall I test the login?", "no")
    pty.expect("Let me test sending", timeout=60)
    pty.child.sendcontrol("d")
    pty.expect("Transcript saved to", timeout=60)
    assert pty.exit_status() == 0
    assert list((tmp_path / "xdg").rglob("*.json")), "the terminal saved no transcript"
    assert_nowhere(tmp_path)


def test_up_arrow_recall_never_brings_a_written_password_back() -> None:
    """The terminal's line history holds what the engine holds: the sentence, redacted."""
    from bot.interfaces.terminal.app import ChatHistory

    history = ChatHistory()
    history.append_string("my password is Hunter2!x")
    history.append_string("my password is wrong")
    assert list(history.get_strings()) == ["my password is [redacted]", "my password is wrong"]


async def test_a_session_restored_from_the_store_still_keeps_its_passwords_out(
    tmp_path: Path,
) -> None:
    """With no live cache (`cache_sessions = 0`) every message restores the session from the
    store, which holds no password; a password typed again later, alone or in a sentence,
    and one typed after the conversation ended, must still never be stored or shown."""
    config = _config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + "cache_sessions = 0\n",
                      encoding="utf-8")
    app = create_app(Config.load(config, serve_mode=True))
    shown: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://deskbot", timeout=60) as http:
        res = await http.post("/v1/sessions", json={"context": {}})
        sid = res.json()["id"]
        lines = ["my mail is stuck in the outbox", f"my pw is {PASSWORD}", PASSWORD,
                 f"I also tried {PASSWORD} on webmail", "talk to a person",
                 f"after all that, {PASSWORD} works on my phone"]
        for line in lines:
            res = await http.post(f"/v1/sessions/{sid}/messages", json={"text": line})
            assert res.status_code == 200, res.text
            shown.append(res.text)
        shown.append((await http.get(f"/v1/sessions/{sid}")).text)
        shown.append((await http.get(f"/v1/sessions/{sid}/transcript")).text)
    assert PASSWORD not in "".join(shown)
    assert_nowhere(tmp_path)


def test_a_password_of_letters_goes_where_it_stands_alone_not_inside_a_host_name() -> None:
    """Redacting it inside "imap.example.com" would give the password away."""
    from bot.scrub import scrub_text

    assert (scrub_text("server imap.example.com, password:imap.", ["imap"])
            == "server imap.example.com, password:[redacted].")
