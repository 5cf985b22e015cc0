"""Lower a TensorFlow.js graph to a ``torch.fx.GraphModule`` of ordinary torch modules and calls.

The eager interpreter (:class:`detector.graphs.tfjs.TfjsModule`) walks the IR on every call: it looks
up each node's inputs by name, branches on the op type and reads attributes. Lowering does that walk
once. It runs the interpreter on an example input alongside, so every shape-dependent number (group
counts, split sizes) is known, folds every node that depends on constants only, and emits one FX
node per remaining op, with each convolution an ``nn.Conv2d``. Two peephole passes then remove
layout transposes that cancel (TensorFlow's NHWC ops between NCHW convolutions) and turn a ``-inf``
pad before a max pool into the pool's own padding.

The result computes the same numbers with the same kernels (tests against the interpreter and the
ONNX reference), is free in batch and input size (any multiple of the largest stride: resizes are
scale factors, reshapes flatten trailing axes), and is a plain ``nn.Module`` that quantisation,
dtype casts and ``torch.compile`` accept as it is.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from detector.graphs.ir import Node, source_name
from detector.graphs.tfjs import TfjsModule, attr_ints

_ACTIVATIONS: dict[str, Callable[..., torch.Tensor]] = {"leaky_relu": F.leaky_relu, "relu": F.relu, "relu6": F.relu6}
_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)


class _Lowering:
    """One pass over the folded graph, emitting FX nodes; see :func:`lower_tfjs`."""

    def __init__(self, module: TfjsModule, example: torch.Tensor) -> None:
        graph = module.graph
        if len(graph.inputs) != 1:
            raise ValueError(f"lowering needs a graph with one input, got {graph.inputs}")
        self.module = module
        self.graph = graph
        self.root = torch.nn.Module()
        self.fx = fx.Graph()
        self.input_name = graph.inputs[0]
        placeholder = self.fx.placeholder("x")
        # name -> concrete value (tensor, or list for multi-output ops) and its FX node (None: a constant).
        self.concrete: dict[str, Any] = dict(module.consts)
        self.concrete[self.input_name] = example
        self.nodes: dict[str, fx.Node | None] = {name: None for name in module.consts}
        self.nodes[self.input_name] = placeholder
        self.buffers: dict[str, fx.Node] = {}
        self.items: dict[str, fx.Node] = {}
        module.set_input_size({self.input_name: example})

    def value(self, ref: str) -> Any:
        name, _, index = ref.partition(":")
        value = self.concrete[name]
        return value[int(index or 0)] if isinstance(value, list) else value

    def node(self, ref: str) -> fx.Node:
        """The FX node of an input reference; a constant becomes a buffer of the lowered module."""
        name, _, index = ref.partition(":")
        produced = self.nodes[name]
        if produced is None:
            if ref not in self.buffers:
                attr = f"const_{len(self.buffers)}"
                self.root.register_buffer(attr, self.value(ref).clone())
                self.buffers[ref] = self.fx.get_attr(attr)
            return self.buffers[ref]
        if isinstance(self.concrete[name], list):
            if ref not in self.items:
                self.items[ref] = self.fx.call_function(operator.getitem, (produced, int(index or 0)))
            return self.items[ref]
        return produced

    def run(self) -> fx.GraphModule:
        for ir_node in self.graph.nodes:
            args = [self.value(i) for i in ir_node.inputs]
            self.concrete[ir_node.name] = self.module.run_node(ir_node, args)
            if all(self.nodes[source_name(i)] is None for i in ir_node.inputs):
                self.nodes[ir_node.name] = None  # constant subgraph (shape arithmetic): folded here
                continue
            self.nodes[ir_node.name] = self.emit(ir_node, args)
        self.fx.output({name: self.node(name) for name in self.graph.outputs})
        lowered = fx.GraphModule(self.root, self.fx, class_name="LoweredGraph")
        _cancel_permutes(lowered.graph)
        lowered.graph.eliminate_dead_code()
        _pool_padding(lowered.graph)
        lowered.graph.eliminate_dead_code()
        lowered.graph.lint()
        lowered.recompile()
        return lowered

    def call(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> fx.Node:
        return self.fx.call_function(target, args, kwargs)

    def permute(self, x: fx.Node, perm: tuple[int, ...]) -> fx.Node:
        return self.fx.call_method("permute", (x, *perm))

    def conv(self, weight: torch.Tensor, bias: torch.Tensor | None, **options: Any) -> str:
        """Register an ``nn.Conv2d`` holding these weights; returns its attribute name."""
        out_channels, in_per_group, kh, kw = weight.shape
        groups = options.pop("groups")
        conv = torch.nn.Conv2d(
            in_per_group * groups, out_channels, (kh, kw), groups=groups, bias=bias is not None, **options
        )
        with torch.no_grad():
            conv.weight.copy_(weight)
            if bias is not None:
                conv.bias.copy_(bias)
        conv.requires_grad_(False)
        attr = f"conv_{sum(1 for _ in self.root.children())}"
        self.root.add_module(attr, conv)
        return attr

    def emit(self, ir: Node, args: list[Any]) -> fx.Node:
        op = ir.op
        x = self.node(ir.inputs[0])
        if op == "FusedConv2d":
            weight, bias, attr = self.module.conv_params[ir.name]
            pads = list(attr["pads"])
            padding: tuple[int, int] = (0, 0)
            if any(pads) and attr["pad_value"] == 0.0 and pads[0] == pads[1] and pads[2] == pads[3]:
                padding = (pads[2], pads[0])
            elif any(pads):
                x = self.call(F.pad, x, pads, value=attr["pad_value"])
            name = self.conv(weight, bias, stride=tuple(attr["stride"]), padding=padding, groups=attr["groups"])
            y = self.fx.call_module(name, (x,))
            activation = attr["activation"]
            if activation == "leaky_relu":
                return self.call(F.leaky_relu, y, negative_slope=attr["alpha"])
            return self.call(_ACTIVATIONS[activation], y) if activation else y
        if op == "Conv2D":  # NHWC, VALID (checked by the interpreter's run above)
            kernel = args[1]
            groups = args[0].shape[3] // kernel.shape[2]
            name = self.conv(
                kernel.permute(3, 2, 0, 1).contiguous(),
                None,
                stride=tuple(attr_ints(ir, "strides")[1:3]),
                dilation=tuple(attr_ints(ir, "dilations")[1:3] or [1, 1]),
                groups=groups,
            )
            return self.permute(self.fx.call_module(name, (self.permute(x, _TO_NCHW),)), _TO_NHWC)
        if op in ("Add", "AddV2"):
            return self.call(operator.add, x, self.node(ir.inputs[1]))
        if op == "LeakyRelu":
            return self.call(F.leaky_relu, x, negative_slope=float(ir.attr.get("alpha", {}).get("f", 0.2)))
        if op in ("Relu", "Relu6", "Sigmoid"):
            return self.call({"Relu": F.relu, "Relu6": F.relu6, "Sigmoid": torch.sigmoid}[op], x)
        if op in ("Pad", "PadV2"):
            flat = [int(v) for pair in reversed(args[1].tolist()) for v in pair]
            return self.call(F.pad, x, flat, value=float(args[2]) if op == "PadV2" else 0.0)
        if op == "Transpose":
            return self.permute(x, tuple(int(v) for v in args[1].tolist()))
        if op == "ConcatV2":
            return self.call(torch.cat, [self.node(i) for i in ir.inputs[:-1]], dim=int(args[-1]))
        if op == "MaxPool":
            pooled = self.call(F.max_pool2d, self.permute(x, _TO_NCHW), tuple(attr_ints(ir, "ksize")[1:3]),
                               tuple(attr_ints(ir, "strides")[1:3]))  # fmt: skip
            return self.permute(pooled, _TO_NHWC)
        if op == "ResizeBilinear":
            # A scale factor rather than a size: the ratio between the feature maps is the same for
            # every input size, so the module needs no shape arithmetic (and traces cleanly).
            source, target = args[0].shape[1:3], self.concrete[ir.name].shape[1:3]
            scale = (target[0] / source[0], target[1] / source[1])
            align = bool(ir.attr.get("align_corners", {}).get("b", False))
            resized = self.call(
                F.interpolate, self.permute(x, _TO_NCHW), scale_factor=scale, mode="bilinear", align_corners=align
            )
            return self.permute(resized, _TO_NHWC)
        if op == "SplitV":
            sizes = [int(part.shape[int(args[2])]) for part in self.concrete[ir.name]]
            return self.call(torch.split, x, sizes, dim=int(args[2]))
        if op == "Reshape":
            before, after = tuple(args[0].shape), tuple(self.concrete[ir.name].shape)
            for start in range(1, len(before)):
                if after == (*before[:start], math.prod(before[start:])):
                    return self.fx.call_method("flatten", (x, start))  # e.g. (B, C, H, W) -> (B, C, H * W)
            if after[0] != before[0]:
                raise ValueError(f"{ir.name}: a reshape that mixes the batch into other axes cannot be lowered")
            return self.fx.call_method("reshape", (x, self.fx.call_method("size", (x, 0)), *after[1:]))
        if op == "Identity":
            return x
        raise ValueError(f"{ir.name}: op {op} cannot be lowered (only constant inputs are supported for it)")


def _permutation(node: fx.Node) -> tuple[int, ...] | None:
    if node.op == "call_method" and node.target == "permute":
        return tuple(int(v) for v in node.args[1:])  # type: ignore[arg-type]
    return None


def _cancel_permutes(graph: fx.Graph) -> None:
    """Bypass ``permute(permute(x, p), q)`` when the two permutations undo each other."""
    for node in list(graph.nodes):
        outer = _permutation(node)
        inner_node = node.args[0] if outer is not None else None
        inner = _permutation(inner_node) if isinstance(inner_node, fx.Node) else None
        if outer is None or inner is None or not isinstance(inner_node, fx.Node):
            continue
        if tuple(inner[i] for i in outer) == tuple(range(len(outer))):
            node.replace_all_uses_with(inner_node.args[0])  # type: ignore[arg-type]


def _pool_padding(graph: fx.Graph) -> None:
    """``max_pool2d(pad(x, p, value=-inf), k, s)`` -> ``max_pool2d(x, k, s, padding=p)`` (same numbers).

    Max pooling pads with ``-inf`` itself; the explicit pad only costs a fill and a copy of the map.
    """
    for node in list(graph.nodes):
        if node.op != "call_function" or node.target is not F.max_pool2d:
            continue
        pad = node.args[0]
        if not (isinstance(pad, fx.Node) and pad.target is F.pad and len(pad.users) == 1):
            continue
        pads = list(pad.args[1])  # type: ignore[arg-type]
        if len(pads) < 4 or any(pads[4:]):
            continue  # pads batch or channels too
        left, right, top, bottom = pads[:4]
        kernel = node.args[1]
        if pad.kwargs.get("value") != float("-inf") or not (left == right and top == bottom):
            continue
        if top > kernel[0] // 2 or left > kernel[1] // 2:  # type: ignore[index]
            continue
        node.args = (pad.args[0], *node.args[1:])
        node.kwargs = {**node.kwargs, "padding": (top, left)}


def lower_tfjs(module: TfjsModule, example: torch.Tensor) -> fx.GraphModule:
    """Lower an (eval-mode, folded) :class:`TfjsModule` to an FX module computing the same outputs.

    Args:
        module: The interpreter holding the folded graph and its constants.
        example: One input ``(B, C, H, W)`` at any valid size; batch 2 or more checks that no
            reshape mixes the batch axis into others.

    Returns:
        A module whose ``forward(x)`` returns the graph's outputs by name, for any batch and any
        input size the interpreter accepts.

    Raises:
        ValueError: The graph has several inputs, or an op that the lowering does not know.
    """
    with torch.inference_mode():
        lowered = _Lowering(module, example).run()
    return lowered.eval()


def op_counts(module: fx.GraphModule) -> dict[str, int]:
    """How many calls of each kind the lowered module makes (for tests and docs)."""
    counts: dict[str, int] = {}
    for node in module.graph.nodes:
        if node.op in ("call_function", "call_method", "call_module"):
            key = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
            if node.op == "call_module":
                key = type(module.get_submodule(node.target)).__name__  # type: ignore[arg-type]
            counts[key] = counts.get(key, 0) + 1
    return counts


__all__ = ["lower_tfjs", "op_counts"]
