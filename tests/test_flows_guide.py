"""The worked example of the flow author's guide (docs/flow-language.md) is a valid flow."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "flow-language.md"


def worked_example() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("### Worked example", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found, "the worked example has no yaml block"
    return found.group(1)


def test_worked_example_passes_the_check(tmp_path: Path) -> None:
    for shared in ROOT.glob("flows/_*.yaml"):
        shutil.copy(shared, tmp_path / shared.name)
    (tmp_path / "outbox_stuck.yaml").write_text(worked_example(), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot", "flows", "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_broken_copy_of_the_example_is_refused(tmp_path: Path) -> None:
    for shared in ROOT.glob("flows/_*.yaml"):
        shutil.copy(shared, tmp_path / shared.name)
    broken = worked_example().replace("next: check", "next: chek")
    (tmp_path / "outbox_stuck.yaml").write_text(broken, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot", "flows", "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode != 0
    assert "outbox_stuck.yaml:" in proc.stdout and "'chek'" in proc.stdout


BRIEF_ALIASES = {
    "Outlook 2016": "outlook", "office 365": "outlook", "the new Outlook": "new_outlook",
    "iPhone": "ios_mail", "my iPad": "ios_mail", "iOS 17": "ios_mail", "Mac Mail": "apple_mail",
    "gmail app": "gmail_android", "android phone": "gmail_android", "tbird": "thunderbird",
    "windows 10 mail": "windows_mail",
}


def test_every_client_has_every_topic_and_the_usual_names_resolve() -> None:
    from bot.flows.loader import load_flows
    from bot.flows.model import STEP_TOPICS

    clients = load_flows(ROOT / "flows").clients
    expected = {"outlook", "new_outlook", "thunderbird", "apple_mail", "ios_mail",
                "gmail_android", "windows_mail", "default"}
    assert set(clients.steps) == expected
    for key, topics in clients.steps.items():
        assert set(topics) == STEP_TOPICS, key
        assert clients.labels.get(key), key
    for text, key in BRIEF_ALIASES.items():
        assert clients.resolve(text) == key, text
    assert clients.resolve("a carrier pigeon") is None
