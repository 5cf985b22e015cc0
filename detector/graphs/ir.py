"""The intermediate representation both graph readers produce and every executor consumes.

A :class:`Graph` is a list of :class:`Node` in execution order plus constant tensors. The readers
(``tfjs.py`` for TensorFlow.js graph models, ``graphdef.py`` for frozen GraphDefs) build it; the
torch executors run it. Keeping these types here, apart from either reader, lets each reader and
executor be read on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Node:
    """One graph op: its name, type, input names (``name`` or ``name:k``) and attributes."""

    name: str
    op: str
    inputs: list[str]
    attr: dict = field(default_factory=dict)


@dataclass
class Graph:
    """A parsed graph: ops in execution order, constant tensors, and the input and output names."""

    nodes: list[Node]
    consts: dict[str, np.ndarray]
    inputs: list[str]
    outputs: list[str]
    input_shapes: dict[str, list[int]] = field(default_factory=dict)


def source_name(ref: str) -> str:
    """The producing node of an input reference: ``"conv:1"`` -> ``"conv"``."""
    return ref.split(":")[0]


def toposort(nodes: list[Node], available: set[str]) -> list[Node]:
    """``nodes`` in an order where every input is computed (or in ``available``) before it is used.

    Raises:
        ValueError: Some node needs an input that nothing produces (names one such node).
    """
    done = set(available)
    ordered: list[Node] = []
    pending = list(nodes)
    while pending:
        rest = []
        for node in pending:
            if all(source_name(i) in done for i in node.inputs):
                ordered.append(node)
                done.add(node.name)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError(f"graph has unresolvable inputs, e.g. node {rest[0].name} needs {rest[0].inputs}")
        pending = rest
    return ordered


def consumer_counts(graph: Graph) -> dict[str, int]:
    """How many node inputs read each producer (to free intermediates once their last reader ran)."""
    counts: dict[str, int] = {}
    for node in graph.nodes:
        for ref in node.inputs:
            name = source_name(ref)
            counts[name] = counts.get(name, 0) + 1
    return counts
