"""The interactive chat loop: prompts, slash commands, live probe progress, the final answer.

Presentation only: every user line goes to the engine's session (`send`), and the slash
commands that change the dialogue are sent as the engine's repair phrases.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.formatted_text import FormattedText, StyleAndTextTuples
from prompt_toolkit.history import DummyHistory, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from bot.engine import BotMessage, Engine, Question, Reply, Session, texts
from bot.engine.secrets import disclosed
from bot.errors import DeskbotError, EngineError
from bot.interfaces.printable import printable
from bot.interfaces.terminal import render
from bot.interfaces.terminal.commands import REPAIR_PHRASES, SlashCommand, parse_command
from bot.interfaces.terminal.live import LiveSend
from bot.interfaces.terminal.progress import ProgressView
from bot.interfaces.terminal.prompts import FIXED_ANSWERS, AnswerCompleter
from bot.slots import SECRET_SLOTS, SLOT_NAMES

MAX_COLUMNS = 100



class ChatHistory(InMemoryHistory):
    """Up-arrow recall of this chat's lines. A line that writes a password out ("my password
    is Hunter2!x") is kept only as the engine keeps it, redacted, so recall cannot bring the
    password back to the screen."""

    def append_string(self, string: str) -> None:
        found = disclosed(string)
        super().append_string(found.line if found is not None else string)

class TerminalChat:
    """One conversation on a terminal, from greeting to the saved transcript."""

    def __init__(
        self, engine: Engine | Callable[[], Engine], context: Mapping[str, str], *,
        transcript: Path | None = None, transcript_dir: Path | None = None,
        input: Input | None = None, output: Output | None = None,
    ) -> None:
        # A loader instead of an engine: the flows load while the first question waits.
        self.engine = engine
        self.context = dict(context)
        self.session: Session  # set by open_session(), before anything reads it
        self.loading: asyncio.Future[Engine] | None = None  # the loader running in a thread
        self.transcript = transcript
        self.transcript_dir = transcript_dir
        # In memory only: answers may hold personal data, and secrets never enter it at all.
        self.prompt_session: PromptSession[str] = PromptSession(
            history=ChatHistory(), input=input, output=output, complete_while_typing=False,
            reserve_space_for_menu=0,
        )
        self.input, self.output = self.prompt_session.input, self.prompt_session.output
        self.symbols = render.Symbols.for_encoding(self.output.encoding())
        self.live = LiveSend(self.input, self.output)

    # -- output ---------------------------------------------------------------------------

    @property
    def columns(self) -> int:
        """Text width: the terminal's, one column short (no auto-wrap surprises), capped."""
        return max(40, min(MAX_COLUMNS, self.output.get_size().columns)) - 1

    def show(self, text: StyleAndTextTuples) -> None:
        """Print styled text (colour only where the terminal has it; NO_COLOR respected)."""
        if text:
            # prompt_toolkit's writer replaces ESC only: BEL, C1 (CSI/OSC) would still pass
            safe = [(fragment[0], printable(fragment[1])) for fragment in text]
            print_formatted_text(FormattedText(safe), style=render.STYLE, end="",
                                 output=self.output)

    def say(self, text: str, style: str = "class:bot") -> None:
        self.show(render.paragraph(text, self.columns, style))

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> int:
        """Greet, converse until an outcome or quit, save the transcript; the exit code."""
        self.show(render.banner())
        code = 0
        try:
            line = await self.open_session()
            while self.session.outcome is None:
                if line is None or not await self.handle_line(line):
                    break
                if self.session.outcome is None:
                    line = await self.read_line(self.session.question)
        except EngineError as exc:  # a flow bug: say so, and keep the transcript for a fix
            self.say(f"deskbot: {exc}", "class:error")
            code = 2
        await self.live.settle()
        self.finish()
        return code

    async def open_session(self) -> str | None:
        """Start the conversation; the first user line (None: the user left).

        Given a loader, the engine's opening words (its greeting and first question, from its
        own texts) are shown at once and the flows load while the user types.
        """
        if isinstance(self.engine, Engine) or self.context.get("message"):
            engine = self.engine if isinstance(self.engine, Engine) else self.engine()
            self.session = engine.start(self.context)
            self.show_reply(await self.session.open())
            return await self.read_line(self.session.question)
        opening = (texts.greeting("local"), texts.DESCRIBE)
        self.show([("", "\n")])
        self.say(opening[0])
        self.say(opening[1], "class:question")
        self.loading = asyncio.get_running_loop().run_in_executor(None, self.engine)
        # Broken flows must not wait for the user's first line to be reported.
        self.loading.add_done_callback(lambda _: self._stop_prompt_if_loading_failed())
        line = await self.read_line(None)
        self.session = (await self.loading).start(self.context)
        reply = await self.session.open()
        self.show_reply(replace(reply, messages=[m for m in reply.messages
                                                 if m.body not in opening]))
        return line

    def _stop_prompt_if_loading_failed(self) -> None:
        """End the waiting prompt with the loader's error (also run as the prompt's pre_run,
        for a loader that failed before the prompt started)."""
        loading, app = self.loading, self.prompt_session.app
        if loading is None or not loading.done() or loading.cancelled():
            return
        error = loading.exception()
        if error is not None and app.is_running and app.future is not None and (
                not app.future.done()):
            app.exit(exception=error)

    async def read_line(self, question: Question | None) -> str | None:
        """The next user line; None when the user leaves (Ctrl-D, or Ctrl-C confirmed)."""
        while True:
            try:
                return await self.ask(question)
            except EOFError:
                return None
            except KeyboardInterrupt:
                if await self.confirm_quit():
                    return None

    async def handle_line(self, line: str) -> bool:
        """Act on one line; False when the chat should end."""
        secret = self.session.question is not None and self.session.question.secret
        command = parse_command(line)
        if secret and command is not None and (command.name is None or command.argument):
            command = None  # a password may start with "/": never echo it as a command
        if command is not None:
            return await self.run_command(command)
        # Pasted multi-line text is one answer (a password is taken exactly as typed).
        text = line if secret else " ".join(p.strip() for p in line.splitlines() if p.strip())
        await self.send(text)
        return True

    async def ask(self, question: Question | None) -> str:
        """Prompt for an answer; hidden input and no history for a secret question."""
        if question is not None and question.secret:
            # DummyHistory: the typed secret is never kept for Up-arrow recall.
            hidden: PromptSession[str] = PromptSession(
                input=self.input, output=self.output, history=DummyHistory())
            return await hidden.prompt_async(
                [("class:prompt", "password (hidden) > ")], is_password=True,
                style=render.STYLE,
            )
        choices, numbered = _choices(question)
        return await self.prompt_session.prompt_async(
            [("class:prompt", "> ")], style=render.STYLE,
            completer=AnswerCompleter(choices, numbered),
            pre_run=self._stop_prompt_if_loading_failed,
            # Room for the choices menu only where there are choices: no blank gap otherwise.
            reserve_space_for_menu=min(len(choices), 6),
        )

    async def confirm_quit(self) -> bool:
        """Ctrl-C at the prompt: ask before leaving (a second Ctrl-C or Ctrl-D means yes)."""
        try:
            answer = await self.prompt_session.prompt_async(
                [("class:prompt", "Quit deskbot? [y/N] ")], style=render.STYLE, completer=None,
            )
        except (EOFError, KeyboardInterrupt):
            return True
        return answer.strip().lower() in {"y", "yes", "q", "quit"}

    # -- sending, with the live progress view -------------------------------------------

    async def send(self, text: str) -> None:
        """Send one line; while probes run show their progress; Ctrl-C cancels them."""
        view = ProgressView(self.symbols, self.columns)
        reply = await self.live.run(self.session.send(text, observer=view), view)
        if reply is None:
            self.show(view.render(live=False))
            self.say("Stopped the checks. You can answer again, go /back, or describe the "
                     "problem differently.", "class:hint")
            self.show_question(self.session.question)
            return
        self.show_reply(reply, view)

    # -- showing replies ------------------------------------------------------------------

    def show_reply(self, reply: Reply, view: ProgressView | None = None) -> None:
        """Every message of a reply; checks go where the engine reports its probes."""
        if reply.messages:
            self.show([("", "\n")])  # a blank line between the user's turn and the bot's
        for message in reply.messages:
            if message.kind == "probe":
                self.show_checks(message, view)
                view = None  # the live view held every check of this send: show it once
            else:
                self.show_message(message, reply)

    def show_checks(self, message: BotMessage, view: ProgressView | None) -> None:
        if view is None or not view.rows:
            # The runner told no observer (e.g. recorded results): show the report's checks.
            view = ProgressView(self.symbols, self.columns)
            for report in message.evidence:
                for check in report.checks:
                    view.check_finished(check)
        self.show(view.render(live=False))

    def show_message(self, message: BotMessage, reply: Reply) -> None:
        if message.kind == "question":
            self.show_question(message.question or reply.question, message.body)
        elif message.kind == "result":
            self.show_result(message, reply)
        elif message.kind == "handoff":
            self.show([("class:handoff", "Handing over to a person\n")])
            self.say(message.body)
            if message.settings:
                headers, rows = render.settings_table(message.settings)
                self.show(render.table(headers, rows, self.columns, self.symbols))
            package = message.handoff
            if package is not None and package.ruled_out:
                self.say("Already ruled out: " + ", ".join(
                    c.replace("_", " ") for c in package.ruled_out) + ".", "class:hint")
        else:
            self.say(message.body)

    def show_question(self, question: Question | None, text: str | None = None) -> None:
        if question is None:
            if text:
                self.say(text, "class:question")
            return
        choices, numbered = _choices(question)
        self.show(render.question(text or question.prompt, choices, self.columns,
                                  numbered=numbered))

    def show_result(self, message: BotMessage, reply: Reply) -> None:
        self.show([("", "\n")])
        self.show(render.final_answer(message.body, message.headline, message.proof,
                                      message.settings or (), self.columns, self.symbols))

    # -- slash commands -------------------------------------------------------------------

    async def run_command(self, command: SlashCommand) -> bool:
        """Run a slash command; False for /quit."""
        name = command.name
        if name is None:
            self.say(f"Unknown command /{command.word}. Type /help for the list.", "class:error")
        elif name == "quit":
            return False
        elif name == "help":
            self.show(render.help_text(self.columns))
        elif name == "settings":
            self.show_settings()
        elif name == "save":
            self.save(command.argument)
        else:
            await self.send(REPAIR_PHRASES[name])
        return True

    def show_settings(self) -> None:
        self.show([("class:section", "What deskbot knows so far\n")])
        # The CONTRACT's slots only: flow-private bookkeeping (e.g. a consent) is not a fact.
        known = {k: v for k, v in self.session.slots.items() if k in SLOT_NAMES}
        rows = render.slot_rows(known, SECRET_SLOTS)
        provider = next((r.provider for r in reversed(self.session.evidence) if r.provider),
                        None)
        if provider is not None:
            rows.insert(0, ("provider", provider.name))
        diagnoses = sorted({d for r in self.session.evidence for d in r.diagnoses})
        if diagnoses:
            rows.append(("checks found", ", ".join(diagnoses)))
        self.show(render.key_values(rows, self.columns))

    def save(self, argument: str) -> None:
        path = Path(argument).expanduser() if argument else self.default_transcript_path()
        saved = self.write_transcript(path)
        if saved:
            self.say(f"Transcript saved to {saved}", "class:hint")

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> None:
        """Save the transcript (automatically, and to --transcript) and say where it is."""
        targets = [self.default_transcript_path()]
        if self.transcript is not None:
            targets.append(self.transcript)
        saved = [p for p in (self.write_transcript(t) for t in targets) if p is not None]
        if saved:
            self.say("Transcript saved to " + " and ".join(str(p) for p in saved), "class:hint")
            if self.session.outcome is not None and self.session.outcome.status == "handoff":
                self.say("Give it to the support agent: it holds every check, never your "
                         "password.", "class:hint")

    def default_transcript_path(self) -> Path:
        folder = self.transcript_dir or default_transcript_dir()
        return folder / f"chat-{datetime.now():%Y%m%d-%H%M%S-%f}.json"

    def write_transcript(self, path: Path) -> Path | None:
        from bot.transcripts import write_transcript

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return write_transcript(path, self.session)
        except (OSError, DeskbotError) as exc:
            self.say(f"Could not save the transcript to {path}: {exc}", "class:error")
            return None


def default_transcript_dir() -> Path:
    """Where transcripts are saved automatically: the per-user data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir("deskbot")) / "transcripts"


def _choices(question: Question | None) -> tuple[list[tuple[str, str]], bool]:
    """The answers to offer, and whether they are numbered (only real choice lists are)."""
    if question is None:
        return [], False
    if question.choices and question.type == "choice":
        return [(c.value, c.label) for c in question.choices], True
    fixed = FIXED_ANSWERS.get(question.type)
    if fixed is not None:
        return list(fixed), False
    return [(c.value, c.label) for c in question.choices], False


def run_terminal_chat(engine: Engine | Callable[[], Engine], context: Mapping[str, str],
                      args: argparse.Namespace) -> int:
    """Entry point from `deskbot chat` when stdin and stdout are a terminal.

    `engine` may be a loader (e.g. `lambda: Engine.load(...)`): the first prompt then shows
    before the flows are loaded, and a DeskbotError from loading ends the chat as usual.
    """
    transcript = getattr(args, "transcript", None)
    chat = TerminalChat(engine, context, transcript=Path(transcript) if transcript else None)
    try:
        return asyncio.run(chat.run())
    except KeyboardInterrupt:  # a Ctrl-C that landed outside any prompt or probe
        print(file=sys.stderr)
        return 130
