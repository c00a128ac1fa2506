"""A second Dovecot whose accounts each carry one real server-side fault (TEST-PEERS.md recipes).

Accounts (all with the world's password):
- `apppw@example.test`: a first passdb returns failure for the correct password with
  `reason=` → IMAP `NO [ALERT] Application-specific password required: <link>`, POP3
  `-ERR [AUTH] Application-specific password required: <link>` (Gmail's words).
- `full@example.test`: the quota plugin with a 1 KiB per-user rule and a ~5 KiB message in
  the maildir → `GETQUOTAROOT INBOX` answers `* QUOTA "User quota" (STORAGE 5 1)`.
- `busy@example.test`: `mail_max_userip_connections = 2` and `hold_sessions()` keeps two
  IMAPS sessions logged in → the next login gets `NO [LIMIT] Maximum number of connections
  from user+IP exceeded (mail_max_userip_connections=2)`.
- `alice@example.test`: healthy, for comparison.
Like the shared Dovecot it listens on 127.0.0.2 with `ssl = required`, so its plain ports
refuse plaintext logins (LOGINDISABLED / PRIVACYREQUIRED) as a real server does.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import ssl
import subprocess
import time

from tests.peers.certs import CertFiles
from tests.peers.dovecot import CONFIG, Dovecot

APP_PASSWORD_REASON = ("Application-specific password required: "
                       "https://support.google.com/mail/?p=InvalidSecondFactor")
REASON_ENV = "DESKBOT_PEER_REASON"
USER_LIMIT = 2  # mail_max_userip_connections
APPPW, FULL, BUSY = "apppw@example.test", "full@example.test", "busy@example.test"
FILLER = ("From: filler@example.test\r\nTo: full@example.test\r\nSubject: filler\r\n\r\n"
          + ("x" * 76 + "\r\n") * 60)  # ~5 KiB: over a 1 KiB quota

FAULTS = f"""\
import_environment = TZ {REASON_ENV}
mail_plugins = $mail_plugins quota
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
  mail_max_userip_connections = {USER_LIMIT}
}}
plugin {{
  quota = count:User quota
  quota_vsizes = yes
  quota_rule = *:storage=100M
}}
"""
# Replaces the single passdb/userdb of the shared config: the app-password passdb comes first
# and turns the CORRECT password into a failure carrying the reason (result_success).
AUTH = """\
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/apppw.passwd
  result_success = return-fail
  result_failure = continue
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = {dir}/passwd
  default_fields = uid=65534 gid=65534 home={dir}/home/%u
}}
"""


class FaultDovecot(Dovecot):
    """Dovecot with the fault accounts above; `start()` as for `Dovecot`."""

    def __init__(self, cert: CertFiles, password: str) -> None:
        self.password = password
        self._held: list[ssl.SSLSocket] = []
        super().__init__(cert)

    def set_user(self, username: str, password: str) -> None:
        del username, password  # the accounts are fixed: see the module docstring
        pw = self.password
        (self.dir / "passwd").write_text(
            f"alice@example.test:{{PLAIN}}{pw}::::::\n"
            f"{APPPW}:{{PLAIN}}{pw} but an app password::::::\n"
            f"{FULL}:{{PLAIN}}{pw}::::::userdb_quota_rule=*:storage=1K\n"
            f"{BUSY}:{{PLAIN}}{pw}::::::\n", encoding="utf-8")
        (self.dir / "apppw.passwd").write_text(
            f"{APPPW}:{{PLAIN}}{pw}::::::reason=%{{env:{REASON_ENV}}}\n", encoding="utf-8")
        maildir = self.dir / "mail" / FULL
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        (maildir / "new" / "1700000000.M1P1.filler").write_text(FILLER, encoding="utf-8")

    def start(self, deadline: float = 15.0) -> None:
        base = CONFIG.format(dir=self.dir, host=self.host, cert=self.cert.chain,
                             key=self.cert.key, **self.ports)
        head, _, rest = base.partition("passdb {")
        tail = rest[rest.index("service anvil"):]
        conf = self.dir / "dovecot.conf"
        conf.write_text(head + FAULTS + AUTH.format(dir=self.dir) + tail, encoding="utf-8")
        for sub in ("home", "mail"):
            (self.dir / sub).mkdir(exist_ok=True)
        subprocess.run(["chown", "-R", "65534:65534", str(self.dir / "mail"),
                        str(self.dir / "home")], check=True)
        log = (self.dir / "stdout.log").open("wb")
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, REASON_ENV: APP_PASSWORD_REASON},
        )
        log.close()
        self._wait_ready(time.monotonic() + deadline)

    def hold_sessions(self, username: str = BUSY, count: int = USER_LIMIT) -> None:
        """Log `count` IMAPS sessions in and keep them open (the user+IP limit is then full)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        for _ in range(count):
            raw = socket.create_connection((self.host, self.ports["imaps"]), 5.0)
            sock = ctx.wrap_socket(raw)
            sock.settimeout(5.0)
            reader = sock.makefile("rb")
            reader.readline()
            sock.sendall(f'h LOGIN "{username}" "{self.password}"\r\n'.encode())
            reply = reader.readline()
            if not reply.startswith(b"h OK"):
                sock.close()
                raise RuntimeError(f"session holder could not log in: {reply!r}")
            self._held.append(sock)

    def release_sessions(self) -> None:
        for sock in self._held:
            with contextlib.suppress(OSError):
                sock.close()
        self._held.clear()

    def stop(self) -> None:
        self.release_sessions()
        super().stop()


_POOL: dict[tuple[str, str], FaultDovecot] = {}


def shared_fault_dovecot(cert: CertFiles, password: str) -> FaultDovecot:
    """One FaultDovecot per (certificate kind, password) for the process, sessions held."""
    key = (cert.kind, password)
    instance = _POOL.get(key)
    if instance is None or instance.proc is None or instance.proc.poll() is not None:
        instance = FaultDovecot(cert, password)
        instance.start()
        instance.hold_sessions()
        _POOL[key] = instance
    return instance


@atexit.register
def _stop_pool() -> None:
    for instance in _POOL.values():
        instance.stop()
    _POOL.clear()
