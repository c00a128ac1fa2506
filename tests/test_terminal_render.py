"""The terminal's presentation pieces: slash commands, wrapping, the settings table, progress."""

from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples, to_plain_text

from bot.diagnoses import parse
from bot.engine import SettingsRow
from bot.engine.handoff import headline
from bot.ids import diagnosis_codes
from bot.interfaces.terminal import render
from bot.interfaces.terminal.commands import parse_command
from bot.interfaces.terminal.progress import ProgressView
from bot.interfaces.terminal.prompts import AnswerCompleter
from bot.probes.model import Check

UNICODE = render.Symbols.for_encoding("utf-8")
ASCII = render.Symbols.for_encoding("ascii")


def plain(text: StyleAndTextTuples) -> str:
    return to_plain_text(text)


def test_slash_commands_are_recognised_with_arguments_and_typos_reported() -> None:
    save = parse_command("/save  ~/case 42.json ")
    assert save is not None and save.name == "save" and save.argument == "~/case 42.json"
    assert parse_command("/QUIT") is not None and parse_command("/QUIT").name == "quit"  # type: ignore[union-attr]
    typo = parse_command("/hlep")
    assert typo is not None and typo.name is None and typo.word == "hlep"
    # Ordinary answers are never taken for commands.
    for answer in ("smtp.example.test", "I don't know", "/", "/var/mail/alice", ""):
        assert parse_command(answer) is None


def test_completer_offers_choices_by_number_and_prefix_and_commands() -> None:
    completer = AnswerCompleter([("pop3", "POP3"), ("imap", "IMAP")])

    def complete(text: str) -> list[str]:
        doc = Document(text, len(text))
        return [c.text for c in completer.get_completions(doc, CompleteEvent())]

    assert complete("2") == ["IMAP"]
    assert complete("po") == ["POP3"]
    assert complete("") == ["POP3", "IMAP"]
    assert complete("/re") == ["/restart"]
    assert complete("/s") == ["/settings", "/save"]


def test_long_text_wraps_within_80_columns_keeping_list_indents() -> None:
    text = ("Open Outlook and go to File > Account Settings. " * 4 + "\n\n"
            "1. Choose your account and click Change, then More Settings, then the Advanced tab "
            "at the top of the window.\n"
            "2. Set the outgoing server port to 587 and encryption to STARTTLS.")
    lines = render.wrap(text, 79)
    assert all(render.width_of(line) <= 79 for line in lines)
    assert "" in lines  # the paragraph break survives
    continued = lines[lines.index("") + 2]
    assert continued.startswith("   ") and not continued.startswith("    1")


def test_unicode_and_wide_characters_are_measured_by_columns() -> None:
    assert render.width_of("日本語") == 6
    clipped = render.clip("メールサーバーの設定を確認してください", 10)
    assert render.width_of(clipped) <= 10 and clipped.endswith("…")


def test_settings_table_fits_80_columns_even_with_long_values() -> None:
    rows = [
        SettingsRow("Incoming", "IMAP", "imap.centurylink.net", 993, "SSL/TLS",
                    "someone.with.a.very.long.name@centurylink.net" * 2),
        SettingsRow("Outgoing", "SMTP", "smtp.centurylink.net", 587, "STARTTLS",
                    "someone@centurylink.net"),
    ]
    headers, cells = render.settings_table(rows)
    assert headers == ["", "Incoming (IMAP)", "Outgoing (SMTP)"]
    text = plain(render.table(headers, cells, 79, UNICODE))
    lines = text.splitlines()
    assert all(render.width_of(line) <= 79 for line in lines)
    assert lines[0].startswith("┌") and lines[-1].startswith("└")
    assert any("imap.centurylink.net" in line and "smtp.centurylink.net" in line
               for line in lines)
    assert any("│ Port" in line and "993" in line and "587" in line for line in lines)
    assert any("│ Username" in line and "…" in line for line in lines)
    ascii_text = plain(render.table(headers, cells, 79, ASCII))
    assert ascii_text.replace("…", "").isascii()


def test_final_answer_names_the_problem_the_evidence_and_the_settings() -> None:
    evidence = [Check("tcp", "smtp.example.test:25", "fail", "timed out after 1500 ms")]
    settings = [SettingsRow("Outgoing", "SMTP", "smtp.example.test", 587, "STARTTLS",
                            "alice@example.test")]
    text = plain(render.final_answer("Your network blocks port 25. Use port 587.",
                                     headline("port_blocked"), evidence, settings, 79, UNICODE))
    assert text.startswith("What's wrong: Your network blocks the port")
    assert "✗ tcp smtp.example.test:25: timed out" in text
    assert "Settings to use" in text
    assert any("Port" in line and "587" in line for line in text.splitlines())


def test_progress_view_spins_while_running_then_shows_marks_and_times() -> None:
    now = [100.0]
    view = ProgressView(UNICODE, 80, clock=lambda: now[0])
    view.check_started("tcp", "smtp.example.test:25")
    view.check_started("tcp", "smtp.example.test:587")
    now[0] += 0.35
    running = plain(view.render())
    assert "0 of 2 done" in running and "Ctrl-C" in running
    assert any(frame in running for frame in UNICODE.spinner)
    assert "350 ms" in running
    view.check_finished(Check("tcp", "smtp.example.test:587", "ok", "connected", ms=4.2))
    view.check_finished(Check("tcp", "smtp.example.test:25", "fail", "no answer (filtered)",
                              ms=1500.0))
    final = plain(view.render(live=False)).splitlines()
    assert final[0].startswith("  ✗ tcp     smtp.example.test:25 ") and "1500 ms" in final[0]
    assert final[1].startswith("  ✓ tcp     smtp.example.test:587") and "4 ms" in final[1]
    assert final[0].endswith("no answer (filtered)")
    assert all(render.width_of(line) <= 80 for line in final)


def test_cancelled_checks_are_marked_not_left_spinning() -> None:
    view = ProgressView(ASCII, 80)
    view.check_started("smtp", "smtp.example.test:465")
    view.cancel_running()
    line = plain(view.render(live=False))
    assert "cancelled" in line and line.isascii()


def test_banner_points_to_help_and_fits_80_columns() -> None:
    text = plain(render.banner())
    assert "/help" in text and "Ctrl-D" in text and render.width_of(text.rstrip()) <= 79


def test_every_diagnosis_shows_the_tables_headline() -> None:
    for code in diagnosis_codes():
        shown = plain(render.headline(headline(code)))
        row = parse(code)
        assert row is not None and row.headline in shown and "_" not in shown
    ok = plain(render.headline(headline("ok")))
    assert ok.startswith("Result: Your settings work")


def test_progress_lines_fit_narrow_terminals_too() -> None:
    for columns in (50, 60, 79):
        view = ProgressView(UNICODE, columns)
        view.check_finished(Check("smtp", "smtp.a-long-provider-name.example.com:587", "ok",
                                  "greeting: 220 smtp.a-long-provider-name.example.com ESMTP"))
        (line,) = plain(view.render(live=False)).splitlines()
        assert render.width_of(line) <= columns and "greeting" in line
