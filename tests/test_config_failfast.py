"""Bad config fails fast: `chat`, `probe`, `replay` and `serve` exit 2 with one line on stderr
naming the config file and the problem, before any conversation, probe or socket."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

DESKBOT = [sys.executable, "-m", "bot"]
# Every config also points DNS at a dead loopback port: were the check missing, nothing
# would reach the system resolver.
DEAD_DNS = '[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n'
PROBLEMS = {
    "missing_ca": ('[tls]\nca_file = "missing.pem"\n', "missing.pem: no such file"),
    "ca_not_pem": ('[tls]\nca_file = "junk.pem"\n', "junk.pem: no usable PEM certificate"),
    "ca_is_folder": ('[tls]\nca_file = "extra"\n', "ca_file"),
    "bad_nameserver": ('[dns]\nnameservers = ["127.0.0.1:port"]\n', "not host or host:port"),
    # each of these would otherwise reach past loopback or never end (attacker findings)
    "empty_nameservers": ('[dns]\nnameservers = []\n', "nameservers is empty"),
    "named_nameserver": ('[dns]\nnameservers = ["dns.example.test"]\n', "is not an IP address"),
    "endless_timeout": ('[probes]\ntimeout = inf\n', "timeout must be a number of seconds"),
    "huge_timeout": ('[probes]\ntimeout = 1e400\n', "timeout must be a number of seconds"),
    "missing_catalogue": ('[catalog]\nfiles = ["nowhere.xml"]\n',
                          "nowhere.xml: no such file"),
    "broken_catalogue": ('[catalog]\nfiles = ["extra/broken.xml"]\n',
                         "broken.xml: not well-formed XML"),
    "broken_in_folder": ('[catalog]\nfiles = ["extra"]\n', "broken.xml: not well-formed XML"),
}
COMMANDS = {
    "chat": ["chat"],
    "probe": ["probe", "alice@example.test"],
    "replay": ["replay", "transcripts"],
    "serve": ["serve", "--port", "9"],
}


def _config(tmp_path: Path, problem: str) -> Path:
    text, _ = PROBLEMS[problem]
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "broken.xml").write_text("<clientConfig><emailProvider")
    (tmp_path / "transcripts").mkdir()
    dns = ("" if "nameserver" in problem
           else DEAD_DNS.split("[probes]")[0] if "timeout" in problem else DEAD_DNS)
    path = tmp_path / "config.toml"
    path.write_text(text + dns)
    return path


def _run(tmp_path: Path, command: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DESKBOT, *COMMANDS[command], "--config", str(config)],
                          cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)


def _assert_one_line(proc: subprocess.CompletedProcess[str], config: Path, problem: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(config) in lines[0] and PROBLEMS[problem][1] in lines[0], lines[0]
    assert "outcome" not in proc.stdout  # no conversation was held


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_chat_refuses_a_bad_config_in_one_line(tmp_path: Path, problem: str) -> None:
    config = _config(tmp_path, problem)
    _assert_one_line(_run(tmp_path, "chat", config), config, problem)


@pytest.mark.parametrize("command", ["probe", "replay", "serve"])
@pytest.mark.parametrize("problem", ["missing_ca", "broken_catalogue", "bad_nameserver"])
def test_every_command_refuses_a_bad_config(tmp_path: Path, command: str, problem: str) -> None:
    config = _config(tmp_path, problem)
    _assert_one_line(_run(tmp_path, command, config), config, problem)


def test_a_good_ca_file_is_accepted(tmp_path: Path) -> None:
    """A real PEM root (trustme) passes the check: replay runs and reports its summary."""
    trustme = pytest.importorskip("trustme")
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    (tmp_path / "transcripts").mkdir()
    config = tmp_path / "config.toml"
    config.write_text('[tls]\nca_file = "ca.pem"\n' + DEAD_DNS)
    proc = _run(tmp_path, "replay", config)
    assert proc.returncode == 0, proc.stderr
    assert "0 passed, 0 failed" in proc.stdout


def test_serve_on_a_port_in_use_says_so_in_one_line_and_never_claims_to_serve(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(DEAD_DNS)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        done = subprocess.run([*DESKBOT, "serve", "--port", port, "--config", str(config)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "serving on" not in done.stderr
    assert done.stderr.splitlines() == [
        f"deskbot serve: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_a_bad_serve_setting_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(DEAD_DNS + "[serve]\napi_key = 5\n")
    done = _run(tmp_path, "serve", config)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"deskbot: {config}: [serve] api_key must be a string of at least 16 characters"]


def test_serve_refuses_a_port_out_of_range_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "99999"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "not a port number" in done.stderr


@pytest.mark.parametrize("text, words", [
    ('[dns]\nnameserver = ["127.0.0.1:9"]\n', "[dns] has no setting 'nameserver'"),
    ('[dsn]\nnameservers = ["127.0.0.1:9"]\n', "unknown table [dsn]"),
])
def test_a_misspelt_setting_is_refused_not_ignored(tmp_path: Path, text: str, words: str) -> None:
    """A typo in [dns] must not fall back to the system resolver without a word."""
    config = tmp_path / "c.toml"
    config.write_text(text)
    done = subprocess.run([sys.executable, "-m", "bot", "chat", "--config", str(config)],
                          input="", capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
