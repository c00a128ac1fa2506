"""A network namespace a test creates, with an IPv6 address whose mail ports are dropped.

    with NetNamespace() as ns:
        world = ns.call(lambda: MailWorld(WorldOptions(ipv6_broken=True)).start())
        subprocess.run([*ns.prefix, sys.executable, "-m", "bot", "chat", ...])

Inside, `lo` is up with 127.0.0.0/8, ::1 and `BROKEN_V6`; an nftables rule drops every TCP
packet to `BROKEN_V6`, so connects to it time out (as a broken IPv6 path does) while the
IPv4 loopback answers. Everything stays inside the namespace: no traffic leaves loopback.
`call()` runs a function on a thread that entered the namespace (setns), so sockets, threads
and subprocesses it creates live there too; commands run there with `prefix`. Needs root.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
BROKEN_V6 = "fd00:de5c::25"  # a ULA address, assigned only inside the namespace
CLONE_NEWNET = 0x40000000
RULES = f"""\
table inet deskbot {{
  chain input {{
    type filter hook input priority 0;
    ip6 daddr {BROKEN_V6} tcp dport 1-65535 drop
  }}
}}
"""


def available() -> bool:
    """True when this process may create namespaces (root, `ip` and `nft` present)."""
    return os.geteuid() == 0 and all(
        os.path.exists(p) for p in ("/usr/sbin/ip", "/usr/sbin/nft"))


class NetNamespace:
    """Create on `__enter__`, delete on `__exit__`."""

    def __init__(self) -> None:
        self.name = f"deskbot-{uuid.uuid4().hex[:8]}"

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def __enter__(self) -> NetNamespace:
        run = _run
        run("ip", "netns", "add", self.name)
        try:
            run("ip", "-n", self.name, "link", "set", "lo", "up")
            run("ip", "-n", self.name, "addr", "add", f"{BROKEN_V6}/128", "dev", "lo")
            subprocess.run([*self.prefix, "nft", "-f", "-"], input=RULES, text=True,
                           check=True, capture_output=True, timeout=10)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on a new thread inside the namespace; return its result (or raise)."""
        box: dict[str, object] = {}

        def inside() -> None:
            try:
                _enter(self.name)
                box["value"] = fn()
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        thread = threading.Thread(target=inside, name=f"netns-{self.name}")
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["value"]  # type: ignore[return-value]


def _enter(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name} failed")
    finally:
        os.close(fd)


def current_netns() -> int:
    """The calling thread's network namespace (inode), to keep per-namespace peers apart."""
    return os.stat("/proc/thread-self/ns/net").st_ino


def _run(*command: str) -> None:
    subprocess.run(list(command), check=True, capture_output=True, timeout=10)
