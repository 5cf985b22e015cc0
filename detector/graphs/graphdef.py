"""Read a TensorFlow frozen GraphDef (protobuf) and run its convolutional part with torch.

The SSD graphs of the TensorFlow Object Detection API hold three parts: the network (convolutions,
batch norms, ReLU6, box predictors), a constant anchor generator, and a post-processor with while
loops and TensorArrays. The network runs here op by op with torch; the anchor subgraph depends on
no input, so it is evaluated once with numpy at load time; the post-processing (box decoding and
non-maximum suppression) is reimplemented by the backend, which is simpler than interpreting
TensorFlow control flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from detector.graphs.ir import Graph, Node, toposort
from detector.graphs.protowire import packed_floats, packed_varints, parse_fields, string

# TensorFlow DataType enum values used by detection graphs.
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 9: np.int64, 10: np.bool_}


def _shape(raw: bytes) -> list[int]:
    fields = parse_fields(raw)
    return [packed_varints(parse_fields(d).get(1, [0]))[0] for d in fields.get(2, [])]  # type: ignore[arg-type]


def _tensor(raw: bytes) -> np.ndarray:
    """Decode a TensorProto into a numpy array.

    Raises:
        ValueError: An unsupported dtype.
    """
    fields = parse_fields(raw)
    code = int(fields.get(1, [1])[0])  # type: ignore[arg-type]
    if code not in _DTYPES:
        if code == 7:  # strings (assert messages): not needed to compute anything
            return np.array([string(v) for v in fields.get(8, [])], dtype=object)  # type: ignore[arg-type]
        raise ValueError(f"unsupported TensorProto dtype {code}")
    dtype = np.dtype(_DTYPES[code])
    shape = _shape(fields[2][0]) if 2 in fields else []  # type: ignore[arg-type]
    count = int(np.prod(shape)) if shape else 1
    if 4 in fields:
        return np.frombuffer(fields[4][0], dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)  # type: ignore[arg-type]
    values: list[Any]
    if dtype == np.float32:
        values = packed_floats(fields.get(5, []))
    elif dtype == np.int64:
        values = packed_varints(fields.get(10, []))
    elif dtype == np.bool_:
        values = packed_varints(fields.get(11, []))
    else:
        values = packed_varints(fields.get(7, []))
    array = np.array(values, dtype=dtype)
    if array.size == count:
        return array.reshape(shape)
    if array.size == 1 or array.size == 0:  # TensorFlow stores a fill value once
        return np.full(shape, array[0] if array.size else 0, dtype=dtype)
    raise ValueError(f"TensorProto holds {array.size} values for shape {shape}")


def _attr(raw: bytes) -> Any:
    """An AttrValue as a plain Python value (list, str, int, float, bool, dtype code, shape, array)."""
    fields = parse_fields(raw)
    if 1 in fields:
        items = parse_fields(fields[1][0])  # type: ignore[arg-type]
        if 3 in items:
            return packed_varints(items[3])
        if 4 in items:
            return packed_floats(items[4])
        if 2 in items:
            return [string(v) for v in items[2]]
        if 6 in items:
            return packed_varints(items[6])
        return []
    if 2 in fields:
        return string(fields[2][0])
    if 3 in fields:
        return packed_varints(fields[3])[0]
    if 4 in fields:
        return packed_floats(fields[4])[0]
    if 5 in fields:
        return bool(fields[5][0])
    if 6 in fields:
        return int(fields[6][0])  # type: ignore[arg-type]
    if 7 in fields:
        return _shape(fields[7][0])  # type: ignore[arg-type]
    if 8 in fields:
        return _tensor(fields[8][0])  # type: ignore[arg-type]
    return None


def load_graphdef(path: Path) -> Graph:
    """Parse a frozen GraphDef file: constants as numpy arrays, every other node as a :class:`Node`."""
    message = parse_fields(Path(path).read_bytes())
    nodes: list[Node] = []
    consts: dict[str, np.ndarray] = {}
    inputs: list[str] = []
    for raw in message.get(1, []):
        fields = parse_fields(raw)  # type: ignore[arg-type]
        name, op = string(fields[1][0]), string(fields[2][0])
        attrs = {}
        for entry in fields.get(5, []):
            pair = parse_fields(entry)  # type: ignore[arg-type]
            attrs[string(pair[1][0])] = _attr(pair[2][0]) if 2 in pair else None  # type: ignore[arg-type]
        if op == "Const":
            consts[name] = attrs["value"]  # type: ignore[assignment]
            continue
        if op == "Placeholder":
            inputs.append(name)
        nodes.append(Node(name, op, [string(i) for i in fields.get(3, [])], attrs))
    return Graph(nodes=nodes, consts=consts, inputs=inputs, outputs=[])


def subgraph(graph: Graph, *, outputs: list[str], feeds: list[str]) -> Graph:
    """The nodes needed to compute ``outputs`` from ``feeds`` and constants, in execution order.

    Raises:
        ValueError: An output depends on a node that is neither fed, constant, nor computable.
    """
    by_name = {n.name: n for n in graph.nodes}
    needed: dict[str, Node] = {}
    stack = list(outputs)
    while stack:
        name = stack.pop().split(":")[0].lstrip("^")
        if name in needed or name in feeds or name in graph.consts:
            continue
        if name not in by_name:
            raise ValueError(f"graph has no node {name!r}")
        node = by_name[name]
        needed[name] = node
        stack.extend(i for i in node.inputs if not i.startswith("^"))
    nodes = [Node(n.name, n.op, [i for i in n.inputs if not i.startswith("^")], n.attr) for n in needed.values()]
    return Graph(
        nodes=toposort(nodes, set(graph.consts) | set(feeds)), consts=graph.consts, inputs=feeds, outputs=outputs
    )


def _ref(env: dict[str, Any], ref: str) -> Any:
    name, _, index = ref.partition(":")
    value = env[name]
    return value[int(index)] if isinstance(value, list) else value


def _strided_slice(x: np.ndarray, node: Node, begin: np.ndarray, end: np.ndarray, strides: np.ndarray) -> np.ndarray:
    if node.attr.get("ellipsis_mask") or node.attr.get("new_axis_mask"):
        raise ValueError(f"{node.name}: StridedSlice with ellipsis or new axes is not supported")
    begin_mask, end_mask = int(node.attr.get("begin_mask", 0)), int(node.attr.get("end_mask", 0))
    shrink = int(node.attr.get("shrink_axis_mask", 0))
    index: list[Any] = []
    for axis, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist(), strict=True)):
        if shrink >> axis & 1:
            index.append(int(b))
            continue
        index.append(
            slice(None if begin_mask >> axis & 1 else int(b), None if end_mask >> axis & 1 else int(e), int(s))
        )
    return np.asarray(x[tuple(index)])


def evaluate_constant(graph: Graph, output: str) -> np.ndarray:
    """Evaluate a subgraph that depends on constants only (anchor generators) with numpy."""
    part = subgraph(graph, outputs=[output], feeds=[])
    env: dict[str, Any] = dict(graph.consts)
    for node in part.nodes:
        a = [_ref(env, i) for i in node.inputs]
        op = node.op
        if op == "Identity":
            out: Any = a[0]
        elif op == "Reshape":
            out = np.reshape(a[0], [int(v) for v in np.ravel(a[1])])
        elif op == "Slice":
            begin, size = np.ravel(a[1]), np.ravel(a[2])
            out = a[0][
                tuple(slice(int(b), None if s == -1 else int(b) + int(s)) for b, s in zip(begin, size, strict=True))
            ]
        elif op == "StridedSlice":
            out = _strided_slice(np.asarray(a[0]), node, np.ravel(a[1]), np.ravel(a[2]), np.ravel(a[3]))
        elif op in ("Mul", "Add", "AddV2", "Sub", "RealDiv", "Minimum", "Maximum", "Equal"):
            fn = {"Mul": np.multiply, "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "RealDiv": np.divide,
                  "Minimum": np.minimum, "Maximum": np.maximum, "Equal": np.equal}[op]  # fmt: skip
            out = fn(a[0], a[1])
            if op == "RealDiv":
                out = np.asarray(out, dtype=np.asarray(a[0]).dtype)
        elif op == "Sqrt":
            out = np.sqrt(a[0])
        elif op == "ConcatV2":
            out = np.concatenate([np.atleast_1d(v) for v in a[:-1]], axis=int(a[-1]))
        elif op == "Pack":
            out = np.stack(a, axis=int(node.attr.get("axis", 0)))
        elif op == "Tile":
            out = np.tile(a[0], [int(v) for v in np.ravel(a[1])])
        elif op == "ExpandDims":
            out = np.expand_dims(a[0], int(np.ravel(a[1])[0]))
        elif op == "Fill":
            out = np.full([int(v) for v in np.ravel(a[0])], a[1])
        elif op == "Cast":
            out = np.asarray(a[0]).astype(_DTYPES[int(node.attr["DstT"])])
        elif op == "Range":
            out = np.arange(a[0], a[1], a[2])
        elif op == "All":
            out = np.all(a[0])
        elif op == "Assert":
            out = None
        else:
            raise ValueError(f"{node.name}: op {op} is not supported in constant subgraphs")
        env[node.name] = out
    return np.asarray(_ref(env, output))


NETWORK_OPS = frozenset(
    {"Conv2D", "DepthwiseConv2dNative", "FusedBatchNorm", "FusedBatchNormV3", "Relu6", "Relu", "BiasAdd", "Add",
     "AddV2", "Identity", "Reshape", "Shape", "StridedSlice", "Pack", "ConcatV2", "Squeeze"}
)  # fmt: skip


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding: the extra pixel goes to the end (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class GraphDefModule(torch.nn.Module):
    """The convolutional part of a frozen GraphDef, NCHW in torch, batch dimension free.

    Batch norms are folded into the preceding convolution's weights at load time (inference
    statistics), so each block is one convolution plus an activation.

    Args:
        graph: The parsed graph.
        feed: Name of the input node (fed NHWC float32, as TensorFlow would see it).
        outputs: Names of the tensors to return.
        dtype: Weights and activations (``torch.bfloat16`` halves the work on CPUs with native
            bfloat16); outputs are float32 either way.
    """

    def __init__(self, graph: Graph, *, feed: str, outputs: list[str], dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.graph = subgraph(graph, outputs=outputs, feeds=[feed])
        unknown = sorted({n.op for n in self.graph.nodes} - NETWORK_OPS)
        if unknown:
            raise ValueError(f"network part uses unsupported ops {unknown}; supported: {sorted(NETWORK_OPS)}")
        self.feed = feed
        self.outputs = outputs
        self.consts = {k: v for k, v in graph.consts.items() if isinstance(v, np.ndarray) and v.dtype != object}
        self._bypass_constant_identities()
        self.dtype = dtype
        self._weights: dict[str, tuple[torch.Tensor, torch.Tensor | None]] = {}
        self._fold_batch_norms()

    def _bypass_constant_identities(self) -> None:
        """Point inputs at constants directly: frozen graphs read every weight through ``.../read``."""
        alias = {}
        for node in self.graph.nodes:  # in execution order, so chains resolve front to back
            if node.op == "Identity" and node.inputs and node.inputs[0].split(":")[0] in self.consts:
                alias[node.name] = node.inputs[0].split(":")[0]
            elif node.op == "Identity" and node.inputs and node.inputs[0] in alias:
                alias[node.name] = alias[node.inputs[0]]
        for name, target in alias.items():
            self.consts[name] = self.consts[target]
        self.graph.nodes = [n for n in self.graph.nodes if n.name not in alias]
        for node in self.graph.nodes:
            node.inputs = [alias.get(i, i) for i in node.inputs]

    def _fold_batch_norms(self) -> None:
        by_name = {n.name: n for n in self.graph.nodes}
        users: dict[str, int] = {}
        for node in self.graph.nodes:
            for ref in node.inputs:
                users[ref.split(":")[0]] = users.get(ref.split(":")[0], 0) + 1
        for node in self.graph.nodes:
            if node.op not in ("Conv2D", "DepthwiseConv2dNative"):
                continue
            kernel = self.consts[node.inputs[1]]
            if node.op == "Conv2D":
                weight = kernel.transpose(3, 2, 0, 1)  # HWIO -> OIHW
            else:
                h, w, c, m = kernel.shape
                weight = kernel.reshape(h, w, c * m, 1).transpose(2, 3, 0, 1)  # depthwise: groups = C
            bias = None
            node.attr["_folded_into"] = None
            for follower in self.graph.nodes:
                if (
                    follower.op in ("FusedBatchNorm", "FusedBatchNormV3")
                    and follower.inputs[0] == node.name
                    and users.get(node.name) == 1
                ):
                    scale, offset, mean, var = (self.consts[i] for i in follower.inputs[1:5])
                    factor = scale / np.sqrt(var + float(follower.attr.get("epsilon", 1e-3)))
                    weight = weight * factor[:, None, None, None]
                    bias = offset - mean * factor
                    follower.op = "Identity"  # its effect now lives in the convolution
                    follower.inputs = [node.name]
                    break
                if follower.op == "BiasAdd" and follower.inputs[0] == node.name and users.get(node.name) == 1:
                    bias = self.consts[follower.inputs[1]]
                    follower.op = "Identity"
                    follower.inputs = [node.name]
                    break
            self._weights[node.name] = (
                torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)).to(self.dtype),
                None if bias is None else torch.from_numpy(np.ascontiguousarray(bias, dtype=np.float32)).to(self.dtype),
            )
        del by_name

    @torch.inference_mode()
    def forward(self, x_nhwc: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run on a batch ``(B, H, W, 3)``; returns the outputs by name (TensorFlow layouts)."""
        # Inside, feature maps are NCHW; shapes the graph asks for are reported as NHWC.
        env: dict[str, Any] = {self.feed: x_nhwc.to(self.dtype).permute(0, 3, 1, 2)}
        layout: dict[str, str] = {self.feed: "nchw"}
        for node in self.graph.nodes:
            args: list[Any] = [
                env[i.split(":")[0]] if i.split(":")[0] in env else self.consts[i.split(":")[0]] for i in node.inputs
            ]
            op = node.op
            out: Any
            if op in ("Conv2D", "DepthwiseConv2dNative"):
                weight, bias = self._weights[node.name]
                stride = int(node.attr["strides"][1])
                x = args[0]
                groups = 1 if op == "Conv2D" else x.shape[1]
                if node.attr.get("padding") == "SAME":
                    top, bottom = _same_pads(x.shape[2], weight.shape[2], stride)
                    left, right = _same_pads(x.shape[3], weight.shape[3], stride)
                    if top == bottom and left == right:
                        out = F.conv2d(x, weight, bias, stride=stride, padding=(top, left), groups=groups)
                    else:
                        out = F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias, stride=stride, groups=groups)
                else:
                    out = F.conv2d(x, weight, bias, stride=stride, groups=groups)
                layout[node.name] = "nchw"
            elif op in ("FusedBatchNorm", "FusedBatchNormV3"):
                raise ValueError(f"{node.name}: a batch norm that could not be folded")
            elif op == "Relu6":
                out, layout[node.name] = F.relu6(args[0]), layout[node.inputs[0]]
            elif op == "Relu":
                out, layout[node.name] = F.relu(args[0]), layout[node.inputs[0]]
            elif op == "BiasAdd":
                bias = torch.from_numpy(args[1]).to(self.dtype).reshape(1, -1, 1, 1)
                out, layout[node.name] = args[0] + bias, "nchw"
            elif op in ("Add", "AddV2"):
                out, layout[node.name] = args[0] + args[1], layout.get(node.inputs[0], "nchw")
            elif op == "Identity":
                out = args[0]
                layout[node.name] = layout.get(node.inputs[0].split(":")[0], "")
            elif op == "Shape":
                t = args[0]
                out = np.array(
                    [t.shape[0], t.shape[2], t.shape[3], t.shape[1]]
                    if layout.get(node.inputs[0]) == "nchw"
                    else list(t.shape)
                )
            elif op == "StridedSlice":
                out = _strided_slice(np.asarray(args[0]), node, *(np.ravel(a) for a in args[1:4]))
            elif op == "Pack":
                out = np.stack([np.asarray(a) for a in args], axis=int(node.attr.get("axis", 0)))
            elif op == "Reshape":
                t = args[0]
                if layout.get(node.inputs[0]) == "nchw":
                    t = t.permute(0, 2, 3, 1)  # reshapes follow TensorFlow's NHWC element order
                out, layout[node.name] = t.reshape([int(v) for v in np.ravel(args[1])]), ""
            elif op == "ConcatV2":
                out, layout[node.name] = torch.cat(args[:-1], dim=int(np.ravel(args[-1])[0])), ""
            elif op == "Squeeze":
                dims = node.attr.get("squeeze_dims") or [d for d, s in enumerate(args[0].shape) if s == 1]
                out = args[0]
                for d in sorted(dims, reverse=True):
                    out = out.squeeze(d)
                layout[node.name] = ""
            else:
                raise ValueError(f"unsupported op {op} at {node.name}")
            env[node.name] = out
        return {name: env[name].float() for name in self.outputs}  # type: ignore[misc]
