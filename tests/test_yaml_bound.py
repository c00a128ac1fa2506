"""The alias-bomb guard skips its walk only where it provably cannot trip (bot.yamlguard)."""

from __future__ import annotations

import pytest
import yaml

from bot.flows.yamlsafe import parse_yaml
from bot.yamlguard import MAX_NODES, node_bound


def _nodes(node: yaml.Node) -> int:
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(_nodes(child) for child in node.value)
    if isinstance(node, yaml.MappingNode):
        return 1 + sum(_nodes(k) + _nodes(v) for k, v in node.value)
    return 1


@pytest.mark.parametrize("text", [
    "?\n?\n?\n?\n", "? \n? \n", "- - - - -\n", "-\n-\n-\n", "{a, b, c, d}", "[[], [], []]",
    "a:\nb:\nc:\n", "{? , ? }", "[a, [b, [c, [d]]]]", "x: {y: {z: }}\n", "", "a",
])
def test_a_document_without_anchors_has_at_most_its_bound(text: str) -> None:
    node = yaml.compose(text)
    bound = node_bound(text)
    assert bound is not None
    assert (_nodes(node) if node is not None else 0) <= bound


def test_an_anchor_means_the_walk_is_needed() -> None:
    assert node_bound("a: &x [1]\nb: *x\n") is None


def test_a_long_document_without_anchors_is_still_counted() -> None:
    text = "x: [" + ",".join(["1"] * (MAX_NODES + 10)) + "]\n"
    data, problems = parse_yaml(text, "big.yaml")
    assert data is None
    assert [p.line for p in problems] == [1] and "more than" in problems[0].message
