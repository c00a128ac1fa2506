"""The public surface: `import bot` is small, sorted and free of the optional extras."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import bot


def test_all_is_sorted_and_importable() -> None:
    assert bot.__all__ == sorted(bot.__all__)
    for name in bot.__all__:
        assert getattr(bot, name) is not None


def test_import_bot_pulls_in_no_server_or_terminal_ui() -> None:
    code = ("import sys, bot; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] "
            "in ('starlette', 'uvicorn', 'prompt_toolkit', 'redis', 'aiosmtplib'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == ""


def test_only_the_engine_imports_transitions() -> None:
    package = Path(bot.__file__).parent
    users = [str(p.relative_to(package)) for p in sorted(package.rglob("*.py"))
             if re.search(r"^(import|from) transitions", p.read_text(encoding="utf-8"), re.M)]
    assert users == ["engine/machine.py"]
