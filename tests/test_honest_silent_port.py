"""A port that accepts the connection and never greets is the server's side, not a blocked port.

port_blocked (diagnoses.yaml) is a port that *times out* (filtered) while another port of the
same server answers: the customer's network drops the packets. The world's `silent` peer is a
real TCP listener that accepts and says nothing, which is what a hung mail daemon or a broken
box in front of it does; the customer's network did its part, so no code names it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import WorldFactory


def _deskbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True,
                          text=True, timeout=60)


def test_silent_port_is_not_blamed_on_the_customers_network(mail_world: WorldFactory) -> None:
    world = mail_world(timeout=0.6)
    silent = world.ports["silent"]
    answers = world.write_answers(outgoing_port=silent)
    done = _deskbot("probe", world.email, "--json", "--answers", str(answers),
                    "--config", str(world.config_path))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    target = f"smtp.example.test:{silent}"
    tcp = [c for c in doc["checks"] if c["probe"] == "tcp" and c["target"] == target]
    assert tcp and tcp[0]["status"] == "ok"  # the connection was accepted: not filtered
    assert "port_blocked" not in doc["diagnoses"]
    assert not any(c["diagnosis"] == "port_blocked" for c in doc["checks"])
    human = _deskbot("probe", world.email, "--answers", str(answers),
                     "--config", str(world.config_path)).stdout
    assert "port_blocked" not in human
    assert f"{target} accepted the connection but sent no greeting within 0.6 s" in human
    assert "your network is not blocking it" in human and "administrator" in human
