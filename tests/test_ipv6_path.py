"""A dual-stack server whose IPv6 address drops the mail ports, in a network namespace the
test creates (tests/peers/netns.py, nftables drop on the namespace's own loopback), while
its IPv4 address answers: the probes try both families, as happy-eyeballs apps do."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers import MailWorld, WorldOptions
from tests.peers.netns import BROKEN_V6, NetNamespace, available

pytestmark = pytest.mark.skipif(not available(), reason="needs root, ip and nft")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def netns() -> Iterator[NetNamespace]:
    with NetNamespace() as ns:
        yield ns


def _probe(ns: NetNamespace, world: MailWorld, **slots: object) -> dict[str, object]:
    answers = world.write_answers(**slots)
    proc = subprocess.run(
        [*ns.prefix, sys.executable, "-m", "bot", "probe", world.email, "--json",
         "--answers", str(answers), "--config", str(world.config_path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("broken", [True, False])
def test_broken_ipv6_path_is_found_while_ipv4_works(netns: NetNamespace, broken: bool) -> None:
    # failing input 8: "works on Wi-Fi, not on LTE": only IPv4 was probed, so all looked fine
    world = netns.call(lambda: MailWorld(WorldOptions(
        ipv6_broken=broken, dovecot=False, timeout=3.0)).start())
    try:
        report = _probe(netns, world)
    finally:
        world.stop()
    checks = report["checks"]
    assert isinstance(checks, list)
    v6 = [c for c in checks if BROKEN_V6 in c["evidence"]]
    if not broken:
        assert report["diagnoses"] == ["ok"] and not v6
        return
    assert report["diagnoses"][0] == "ipv6_path_broken"  # type: ignore[index]
    assert v6 and v6[0]["status"] == "fail"
    # the verdict came from the adaptive deadline (IPv4 answered at once), not the 3 s timeout
    assert "while the same server answered at once" in v6[0]["evidence"]
