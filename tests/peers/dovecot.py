"""Dovecot (Debian's) as a POP3/POP3S/IMAP/IMAPS test peer, from a private config.

Runs `dovecot -F -c FILE` in a fresh folder (a reused base_dir can stall the first login),
with the anvil auth penalty and failure delay off so failed logins stay fast. It listens on
127.0.0.2 because Dovecot treats 127.0.0.1→127.0.0.1 as secure and would allow plaintext
logins that a real server refuses (TEST-PEERS.md).

Dovecot notices a changed passwd-file only about a second later, so `shared_dovecot()` keeps
one instance per account instead of switching users. `lock_mailbox()` holds a POP3 session
open, so a second POP3 login gets Dovecot's `-ERR [IN-USE]` reply (after its ~10 s lock wait).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from tests.peers.certs import CertFiles
from tests.peers.netns import current_netns

HOST = "127.0.0.2"

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = pop3 imap
listen = {host}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = yes
mail_location = maildir:{dir}/mail/%u
pop3_lock_session = yes
mail_max_lock_timeout = 1s
login_greeting = Dovecot test peer ready.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={dir}/home/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"""


def free_port(host: str) -> int:
    """A port free right now on `host` (Dovecot binds it itself a moment later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """One Dovecot instance; `start()` returns once POP3S greets."""

    def __init__(self, cert: CertFiles, host: str = HOST) -> None:
        self.cert, self.host = cert, host
        self.dir = Path(tempfile.mkdtemp(prefix="deskbot-dovecot-"))
        os.chmod(self.dir, 0o755)  # the mail user (nobody) needs to reach its home
        self.ports = {name: free_port(host) for name in ("pop3", "pop3s", "imap", "imaps")}
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock_holder: ssl.SSLSocket | None = None
        self.set_user("alice@example.test", "correct horse")

    def set_user(self, username: str, password: str) -> None:
        """Make `username` the one account (call before `start()`: see the module docstring)."""
        passwd = self.dir / "passwd"
        tmp = passwd.with_suffix(".tmp")
        tmp.write_text(f"{username}:{{PLAIN}}{password}::::::\n", encoding="utf-8")
        os.replace(tmp, passwd)

    def start(self, deadline: float = 15.0) -> None:
        """Write the config, start the daemon, wait until it greets over TLS."""
        conf = self.dir / "dovecot.conf"
        conf.write_text(
            CONFIG.format(dir=self.dir, host=self.host, cert=self.cert.chain,
                          key=self.cert.key, **self.ports),
            encoding="utf-8",
        )
        for sub in ("home", "mail"):
            (self.dir / sub).mkdir(exist_ok=True)
            os.chown(self.dir / sub, 65534, 65534)
        log = (self.dir / "stdout.log").open("wb")
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        self._wait_ready(time.monotonic() + deadline)

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(
                (self.host, self.ports["pop3"]), 0.5
            ) as sock:
                sock.settimeout(1.0)
                if sock.recv(100).startswith(b"+OK"):
                    return
            time.sleep(0.02)
        raise RuntimeError(f"dovecot did not greet in time: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.dir / "dovecot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-2000:]

    def auth_lines(self, username: str) -> int:
        """How many authentication attempts for `username` Dovecot has logged
        (`auth_verbose`: one line per failed attempt, the username in parentheses)."""
        path = self.dir / "dovecot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return sum(1 for line in text.splitlines()
                   if "auth" in line and f"({username}," in line)

    def lock_mailbox(self, username: str, password: str) -> None:
        """Log in over POP3S and stay: the mailbox is then locked for every other session."""
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        raw = socket.create_connection((self.host, self.ports["pop3s"]), 5.0)
        sock = ctx.wrap_socket(raw)
        sock.settimeout(5.0)
        reader = sock.makefile("rb")
        reader.readline()
        for command in (f"USER {username}", f"PASS {password}"):
            sock.sendall(command.encode() + b"\r\n")
            reply = reader.readline()
            if not reply.startswith(b"+OK"):
                sock.close()
                raise RuntimeError(f"lock holder could not log in: {reply!r}")
        self._lock_holder = sock

    def unlock_mailbox(self) -> None:
        """End the lock-holding session."""
        if self._lock_holder is not None:
            with contextlib.suppress(OSError):
                self._lock_holder.sendall(b"QUIT\r\n")
                self._lock_holder.close()
            self._lock_holder = None

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL) and remove its folder."""
        self.unlock_mailbox()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(3.0)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(3.0)
        shutil.rmtree(self.dir, ignore_errors=True)


_POOL: dict[tuple[str, str], Dovecot] = {}


def shared_dovecot(cert: CertFiles, username: str, password: str) -> Dovecot:
    """A Dovecot per (certificate kind, account), started once per process and reused:
    start costs ~0.1 s but stop ~1 s, and a changed passwd-file is only noticed after ~1 s."""
    # per network namespace too: a world started inside a NetNamespace needs its own
    key = (cert.kind, f"{username}:{password}:{current_netns()}")
    instance = _POOL.get(key)
    if instance is None or instance.proc is None or instance.proc.poll() is not None:
        instance = Dovecot(cert)
        instance.set_user(username, password)
        instance.start()
        _POOL[key] = instance
    else:
        instance.unlock_mailbox()
    return instance


@atexit.register
def _stop_pool() -> None:
    for instance in _POOL.values():
        instance.stop()
    _POOL.clear()
