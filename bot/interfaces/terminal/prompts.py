"""Input widgets: the answer prompt's completer and the key hints shown under a question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from bot.interfaces.terminal.commands import COMMANDS

# Answers the engine understands for these question types without a list of choices.
FIXED_ANSWERS: dict[str, tuple[tuple[str, str], ...]] = {
    "yesno": (("yes", "Yes"), ("no", "No")),
    "security": (("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None")),
    "protocol": (("imap", "IMAP"), ("pop3", "POP3")),
}


class AnswerCompleter(Completer):
    """Completes slash commands anywhere, and the choices of the current question.

    A choice is offered by its label, by its value, or, when the list on screen is numbered,
    by its number (`2` + Tab → the second label).
    """

    def __init__(self, choices: Sequence[tuple[str, str]] = (), numbered: bool = True) -> None:
        self.choices = list(choices)
        self.numbered = numbered

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        typed = text.strip().lower()
        if text.lstrip().startswith("/"):
            yield from self._commands(text)
            return
        for number, (value, label) in enumerate(self.choices, start=1):
            by_number = self.numbered and typed == str(number)
            if by_number or label.lower().startswith(typed) or value.lower().startswith(typed):
                shown = f"{number}) {label}" if self.numbered else label
                yield Completion(label, start_position=-len(text), display=shown)

    @staticmethod
    def _commands(text: str) -> Iterable[Completion]:
        word = text.lstrip()
        for info in COMMANDS:
            if f"/{info.name}".startswith(word.lower()):
                yield Completion(
                    f"/{info.name}", start_position=-len(word), display_meta=info.summary
                )
