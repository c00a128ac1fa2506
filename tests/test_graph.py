"""Flow pictures: Mermaid, DOT and SVG show every node by kind and label every edge."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from bot.flows.graph import Shading, flow_edges, render, to_dot, to_mermaid, to_svg
from bot.flows.loader import load_flows
from bot.flows.model import Flow

FLOW = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox"]
  keywords: {outbox: 3}
start: ask_email
nodes:
  ask_email:
    ask: email
    type: email
    prompt: "What is your e-mail address?"
    next: ask_proto
  ask_proto:
    ask: incoming_protocol
    type: choice
    prompt: "POP3 or IMAP?"
    choices: {pop3: POP3, imap: IMAP}
    on: {pop3: say_pop, imap: check_sending, unknown: check_sending}
  say_pop: {say: "POP3 \\"downloads\\" <mail> & deletes it", next: route}
  route:
    branch:
      - when: {incoming_protocol: pop3}
        goto: check_sending
      - else: check_sending
  check_sending:
    probe: check_outgoing
    on:
      ok: all_good
      port_blocked: fix_port_blocked
      other: handoff_unclear
  all_good: {resolve: ok, say: "All good."}
  fix_port_blocked: {resolve: port_blocked, say: "Port blocked."}
  handoff_unclear: {handoff: "A technician should look."}
"""


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    folder = tmp_path_factory.mktemp("flows")
    (folder / "outbox_stuck.yaml").write_text(FLOW, encoding="utf-8")
    return load_flows(folder).flows["outbox_stuck"]


def test_edges_are_labelled_with_answers_outcomes_and_conditions(flow: Flow) -> None:
    labels = {(e.source, e.label, e.target) for e in flow_edges(flow)}
    assert ("ask_proto", "pop3", "say_pop") in labels
    assert ("ask_proto", "don't know", "check_sending") in labels
    assert ("check_sending", "port_blocked", "fix_port_blocked") in labels
    assert ("route", "incoming_protocol=pop3", "check_sending") in labels
    assert ("route", "else", "check_sending") in labels


def test_mermaid_has_every_node_with_its_kind_and_labelled_edges(flow: Flow) -> None:
    text = to_mermaid(flow)
    assert text.startswith("flowchart TD")
    for name, node in flow.nodes.items():
        assert name in text
        assert f":::{node.kind}" in text
    assert '-- "port_blocked" -->' in text
    assert "#quot;downloads#quot;" in text  # quotes escaped, the diagram still parses


def test_dot_shapes_by_kind_and_coverage_colours(flow: Flow) -> None:
    shading = Shading(frozenset({"ask_email", "ask_proto"}), frozenset({("ask_email", "next")}))
    text = to_dot(flow, shading)
    assert text.startswith('digraph "outbox_stuck"')
    assert '"check_sending" [label="check_sending\\nprobe: check_outgoing", shape=hexagon' in text
    assert "shape=diamond" in text and "shape=doubleoctagon" in text
    assert '"ask_email" -> "ask_proto" [label="", color="#16a34a"]' in text
    assert '"check_sending" -> "all_good" [label="ok", color="#dc2626", style=dashed]' in text


def test_svg_is_well_formed_with_one_box_per_node(flow: Flow) -> None:
    root = ET.fromstring(to_svg(flow))
    ns = "{http://www.w3.org/2000/svg}"
    groups = [g for g in root.iter(f"{ns}g") if "node" in g.get("class", "")]
    assert len(groups) == len(flow.nodes)
    texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    assert "check_sending" in texts and "port_blocked" in texts
    assert '"downloads"' in texts  # escaped in XML, shown as typed


def test_render_dispatches_on_format(flow: Flow) -> None:
    assert render(flow, "mermaid").startswith("flowchart")
    assert render(flow, "dot").startswith("digraph")
    assert render(flow, "svg").startswith("<svg")


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered RGB(A) rows of a non-interlaced 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, colour = struct.unpack(">IIBB", body[:10])
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows = zlib.decompress(idat), width * channels, []
    prev = bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 2:
                row[i] = (row[i] + up) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                row[i] = (row[i] + pred) & 255
        rows.append(bytes(row))
        prev = row
    return width, height, rows


def test_svg_renders_in_a_real_browser(flow: Flow, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (scripts/install-test-deps installs it)")
    svg = tmp_path / "flow.svg"
    svg.write_text(to_svg(flow), encoding="utf-8")
    png = tmp_path / "flow.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={png}", "--window-size=900,700", svg.as_uri()],
        check=True, capture_output=True, timeout=60,
    )
    width, height, rows = _png_pixels(png.read_bytes())
    assert (width, height) == (900, 700)
    channels = len(rows[0]) // width
    probe_fill = bytes((0xFE, 0xF3, 0xC7))  # the probe box colour
    hits = sum(
        1 for row in rows for x in range(0, len(row), channels * 4)
        if row[x:x + 3] == probe_fill
    )
    assert hits > 50  # the probe box was drawn, not a blank or error page


# --- `deskbot flows graph` ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_cli_draws_each_of_the_bundled_flows(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.interfaces.cli import main

    flowset = load_flows(ROOT / "flows")
    assert len(flowset.flows) == 10
    for index, (flow_id, flow) in enumerate(sorted(flowset.flows.items())):
        fmt = ("mermaid", "dot", "svg")[index % 3]  # each format through the CLI, quickly
        assert main(["flows", "graph", flow_id, "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert all(name in out for name in flow.nodes), (flow_id, fmt)
        ET.fromstring(render(flow, "svg"))  # well-formed XML for every flow


def test_cli_refuses_an_unknown_flow_and_names_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.interfaces.cli import main

    assert main(["flows", "graph", "no_such_flow"]) == 1
    err = capsys.readouterr().err
    assert "no flow 'no_such_flow'" in err and "outbox_stuck" in err


async def test_cli_shades_by_what_replayed_transcripts_exercised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bot.interfaces.cli import main
    from tests.test_replay import BLOCKED, BLOCKED_TALK, make_flows, record

    flows = make_flows(tmp_path / "flows")
    await record(flows, tmp_path / "t" / "blocked.json", BLOCKED_TALK, [BLOCKED])
    args = ["flows", "graph", "outbox_stuck", "--flows", str(flows), "--format", "dot",
            "--coverage", str(tmp_path / "t")]
    assert await asyncio.to_thread(main, args) == 0
    dot = capsys.readouterr().out
    green, red = 'color="#16a34a"', 'color="#dc2626"'
    assert f'"check_sending" -> "fix_port_blocked" [label="port_blocked", {green}]' in dot
    assert f'"check_sending" -> "all_good" [label="ok", {red}, style=dashed]' in dot
    assert f'"ask_password" [label="ask_password\\nask: password (secret)", shape=box, ' \
           f'fillcolor="#dbeafe", {red}' in dot
    svg_path = tmp_path / "f.svg"
    args[6] = "svg"
    assert await asyncio.to_thread(main, [*args, "-o", str(svg_path)]) == 0
    assert 'stroke="#dc2626"' in svg_path.read_text(encoding="utf-8")
