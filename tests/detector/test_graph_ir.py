"""The graph IR shared by both readers: execution order and unresolvable inputs."""

import pytest

from detector.graphs.ir import Graph, Node, consumer_counts, source_name, toposort


def test_toposort_puts_producers_before_consumers() -> None:
    nodes = [Node("c", "Add", ["a", "b:1"]), Node("b", "SplitV", ["x"]), Node("a", "Relu", ["x"])]
    order = [n.name for n in toposort(nodes, {"x"})]
    assert order.index("b") < order.index("c") and order.index("a") < order.index("c")


def test_toposort_names_a_node_whose_input_nothing_produces() -> None:
    with pytest.raises(ValueError, match="node c needs"):
        toposort([Node("c", "Add", ["a", "missing"]), Node("a", "Relu", ["x"])], {"x"})


def test_consumer_counts_count_every_reference() -> None:
    graph = Graph(
        nodes=[Node("a", "Relu", ["x"]), Node("b", "Add", ["a", "a:0"])], consts={}, inputs=["x"], outputs=["b"]
    )
    assert consumer_counts(graph) == {"x": 1, "a": 2}
    assert source_name("split:1") == "split"
