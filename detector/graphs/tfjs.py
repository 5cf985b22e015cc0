"""Load a TensorFlow.js graph model (JSON topology + binary weight shards) and run it with torch.

Only the ops that detection graphs exported from ONNX through onnx-tf use are implemented; an
unknown op fails at load time with its name, never silently at inference. The interpreter keeps
TensorFlow's semantics (NHWC convolutions, explicit pads), then :func:`fold` rewrites the common
``Pad -> Transpose -> Conv2D -> Add -> Transpose -> LeakyRelu`` chains into single NCHW convolutions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from detector.graphs.ir import Graph, Node, consumer_counts, toposort

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANT_DTYPES = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


def load_tfjs_graph(model_json: Path) -> Graph:
    """Parse ``model.json`` and its weight shards (next to it) into a :class:`Graph`.

    Raises:
        ValueError: The file is not a graph model, a shard is short, or a weight dtype is unknown.
    """
    spec = json.loads(Path(model_json).read_text())
    if spec.get("format") != "graph-model":
        raise ValueError(f"{model_json} is not a TensorFlow.js graph model (format {spec.get('format')!r})")
    consts: dict[str, np.ndarray] = {}
    for group in spec["weightsManifest"]:
        data = b"".join((Path(model_json).parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for weight in group["weights"]:
            count = int(np.prod(weight["shape"])) if weight["shape"] else 1
            quant = weight.get("quantization")
            if quant:
                stored = np.dtype(_QUANT_DTYPES[quant["dtype"]])
            elif weight["dtype"] in _DTYPES:
                stored = np.dtype(_DTYPES[weight["dtype"]])
            else:
                raise ValueError(f"weight {weight['name']} has unsupported dtype {weight['dtype']!r}")
            size = count * stored.itemsize
            if offset + size > len(data):
                raise ValueError(f"weight shards of {model_json} end before weight {weight['name']}")
            array = np.frombuffer(data, dtype=stored, count=count, offset=offset).reshape(weight["shape"])
            offset += size
            if quant and quant["dtype"] != "float16":  # affine uint8/uint16 quantisation
                array = array.astype(np.float32) * quant["scale"] + quant["min"]
            consts[weight["name"]] = array.astype(np.float32) if quant else array.copy()
    nodes = []
    inputs = []
    input_shapes = {}
    for raw in spec["modelTopology"]["node"]:
        if raw["op"] == "Const":
            continue
        if raw["op"] == "Placeholder":
            inputs.append(raw["name"])
            dims = raw.get("attr", {}).get("shape", {}).get("shape", {}).get("dim", [])
            input_shapes[raw["name"]] = [int(d.get("size", -1)) for d in dims]
            continue
        nodes.append(
            Node(
                raw["name"], raw["op"], [i for i in raw.get("input", []) if not i.startswith("^")], raw.get("attr", {})
            )
        )
    signature = spec.get("signature", {}).get("outputs", {})
    outputs = sorted(k.split(":")[0] for k in signature) or [n.name for n in nodes if n.op == "Identity"]
    return Graph(
        nodes=toposort(nodes, set(consts) | set(inputs)),
        consts=consts,
        inputs=inputs,
        outputs=outputs,
        input_shapes=input_shapes,
    )


def attr_ints(node: Node, key: str) -> list[int]:
    """An integer-list attribute of a TFJS node (strides, kernel sizes), empty when absent."""
    return [int(v) for v in node.attr.get(key, {}).get("list", {}).get("i", [])]


def attr_str(node: Node, key: str) -> str:
    """A string attribute of a TFJS node (base64 in the JSON), empty when absent."""
    import base64

    value = node.attr.get(key, {}).get("s", "")
    return base64.b64decode(value).decode() if value else ""


SUPPORTED_OPS = frozenset(
    {
        "Conv2D", "Pad", "PadV2", "Add", "AddV2", "LeakyRelu", "Relu", "Relu6", "Transpose", "ConcatV2",
        "MaxPool", "ResizeBilinear", "SplitV", "Sigmoid", "Reshape", "Identity", "SparseToDense",
        "FusedConv2d",
    }
)  # fmt: skip


class TfjsModule(torch.nn.Module):
    """Runs a :class:`Graph` with torch ops, float32, batch dimension free.

    Args:
        graph: The parsed graph (its constants become tensors on this module).
        fold_ops: Fold pad/conv/bias/activation chains into single convolutions (same numbers, faster).
    """

    def __init__(self, graph: Graph, *, fold_ops: bool = True) -> None:
        super().__init__()
        unknown = sorted({n.op for n in graph.nodes} - SUPPORTED_OPS)
        if unknown:
            raise ValueError(f"graph uses unsupported ops {unknown}; supported: {sorted(SUPPORTED_OPS)}")
        self.graph = fold(graph) if fold_ops else graph
        self.consts = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.graph.consts.items()}
        self.conv_params: dict[str, tuple[torch.Tensor, torch.Tensor | None, dict]] = {}
        for node in self.graph.nodes:
            if node.op == "FusedConv2d":
                self.conv_params[node.name] = (
                    self.consts[node.attr["weight"]],
                    self.consts[node.attr["bias"]] if node.attr.get("bias") else None,
                    node.attr,
                )

    def set_input_size(self, inputs: dict[str, torch.Tensor]) -> None:
        """Scale resize targets for these inputs before :meth:`run_node` runs ops one by one.

        Resize targets are constants of the exported input size; a fully convolutional graph run on
        another input size (a multiple of the largest stride) needs them scaled alike.
        """
        self._resize_scale = (1.0, 1.0)
        for name, shape in self.graph.input_shapes.items():
            if name in inputs and len(shape) == 4 and shape[-1] > 0 and shape[-2] > 0:
                self._resize_scale = (inputs[name].shape[-2] / shape[-2], inputs[name].shape[-1] / shape[-1])

    @torch.inference_mode()
    def forward(self, **inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run the graph; keyword arguments are the placeholders by name; returns the outputs by name."""
        env: dict[str, torch.Tensor | list[torch.Tensor]] = dict(self.consts)
        env.update(inputs)
        self.set_input_size(inputs)
        remaining = consumer_counts(self.graph)

        def get(ref: str) -> torch.Tensor:
            name, _, index = ref.partition(":")
            value = env[name]
            if isinstance(value, list):
                return value[int(index or 0)]
            return value

        for node in self.graph.nodes:
            args = [get(i) for i in node.inputs]
            env[node.name] = self.run_node(node, args)
            for ref in node.inputs:  # free intermediates early: tiles arrive in batches
                name = ref.split(":")[0]
                remaining[name] -= 1
                if remaining[name] == 0 and name not in self.consts and name not in self.graph.outputs:
                    env.pop(name, None)
        return {name: get(name) for name in self.graph.outputs}

    def run_node(self, node: Node, args: list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        """One node on its input values (after :meth:`set_input_size`); a list for multi-output ops."""
        op = node.op
        if op == "FusedConv2d":
            weight, bias, attr = self.conv_params[node.name]
            x = args[0]
            padding: int | tuple[int, int]
            if attr["pad_value"] != 0.0 and any(attr["pads"]):
                x = F.pad(x, attr["pads"], value=attr["pad_value"])
                padding = 0
            elif any(attr["pads"]):
                pads = attr["pads"]
                if pads[0] == pads[1] and pads[2] == pads[3]:
                    padding = (pads[2], pads[0])
                else:
                    x = F.pad(x, pads)
                    padding = 0
            else:
                padding = 0
            y = F.conv2d(x, weight, bias, stride=attr["stride"], padding=padding, groups=attr["groups"])
            return _activate(y, attr["activation"], attr["alpha"])
        if op == "Conv2D":
            x, w = args
            if attr_str(node, "data_format") not in ("", "NHWC"):
                raise ValueError(f"{node.name}: only NHWC Conv2D is supported")
            if attr_str(node, "padding") != "VALID":
                raise ValueError(f"{node.name}: only VALID padding is supported (pads are explicit ops)")
            stride = attr_ints(node, "strides")[1:3]
            dilation = attr_ints(node, "dilations")[1:3] or [1, 1]
            groups = x.shape[3] // w.shape[2]
            y = F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=stride, dilation=dilation, groups=groups)
            return y.permute(0, 2, 3, 1)
        if op in ("Add", "AddV2"):
            return args[0] + args[1]
        if op == "LeakyRelu":
            return F.leaky_relu(args[0], float(node.attr.get("alpha", {}).get("f", 0.2)))
        if op == "Relu":
            return F.relu(args[0])
        if op == "Relu6":
            return F.relu6(args[0])
        if op == "Sigmoid":
            return torch.sigmoid(args[0])
        if op in ("Pad", "PadV2"):
            pads = args[1].tolist()
            flat = [int(v) for pair in reversed(pads) for v in pair]
            value = float(args[2]) if op == "PadV2" else 0.0
            return F.pad(args[0], flat, value=value)
        if op == "Transpose":
            return args[0].permute(*[int(v) for v in args[1].tolist()])
        if op == "ConcatV2":
            return torch.cat(args[:-1], dim=int(args[-1]))
        if op == "MaxPool":
            if attr_str(node, "padding") != "VALID" or attr_str(node, "data_format") not in ("", "NHWC"):
                raise ValueError(f"{node.name}: only NHWC VALID MaxPool is supported")
            k = attr_ints(node, "ksize")[1:3]
            s = attr_ints(node, "strides")[1:3]
            return F.max_pool2d(args[0].permute(0, 3, 1, 2), k, s).permute(0, 2, 3, 1)
        if op == "ResizeBilinear":
            size = [round(int(v) * k) for v, k in zip(args[1].tolist(), self._resize_scale, strict=True)]
            align = bool(node.attr.get("align_corners", {}).get("b", False))
            half = bool(node.attr.get("half_pixel_centers", {}).get("b", False))
            if not align and not half:
                raise ValueError(f"{node.name}: legacy (asymmetric) ResizeBilinear is not supported")
            x = args[0].permute(0, 3, 1, 2)
            return F.interpolate(x, size=size, mode="bilinear", align_corners=align).permute(0, 2, 3, 1)
        if op == "SplitV":
            sizes = [int(v) for v in args[1].tolist()]
            dim = int(args[2])
            if -1 in sizes:
                sizes[sizes.index(-1)] = args[0].shape[dim] - (sum(sizes) + 1)
            return list(torch.split(args[0], sizes, dim=dim))
        if op == "Reshape":
            shape = [int(v) for v in args[1].tolist()]
            if shape and shape[0] == 1:
                shape[0] = args[0].shape[0]  # exported with batch 1; keep the batch free
            return args[0].reshape(shape)
        if op == "Identity":
            return args[0]
        if op == "SparseToDense":
            indices, dense_shape, values, default = args
            out = torch.full([int(v) for v in dense_shape.reshape(-1).tolist()], int(default), dtype=torch.int64)
            if indices.numel():
                out[tuple(indices.long().reshape(-1, out.dim()).T)] = values.long()
            return out
        raise ValueError(f"unsupported op {op} at {node.name}")


def _activate(y: torch.Tensor, activation: str, alpha: float) -> torch.Tensor:
    if activation == "leaky_relu":
        return F.leaky_relu(y, alpha)
    if activation == "relu":
        return F.relu(y)
    if activation == "relu6":
        return F.relu6(y)
    return y


def fold(graph: Graph) -> Graph:
    """Rewrite ``[Pad ->] Transpose(NCHW->NHWC) -> Conv2D -> [Add bias] -> Transpose(NHWC->NCHW) [-> LeakyRelu]``.

    Each chain becomes one ``FusedConv2d`` node working in NCHW with the kernel stored OIHW, so the
    layout transposes vanish. Only chains whose intermediates have no other consumer are folded.
    """
    producers = {n.name: n for n in graph.nodes}
    consumers: dict[str, list[Node]] = {}
    for node in graph.nodes:
        for ref in node.inputs:
            consumers.setdefault(ref.split(":")[0], []).append(node)
    consts = dict(graph.consts)
    removed: set[str] = set()
    replaced: dict[str, Node] = {}

    def only_consumer(name: str) -> Node | None:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in graph.outputs else None

    def perm(node: Node) -> list[int]:
        return [int(v) for v in consts[node.inputs[1]].tolist()] if node.inputs[1] in consts else []

    for conv in graph.nodes:
        if conv.op != "Conv2D" or conv.inputs[1] not in consts or conv.name in removed:
            continue
        if attr_str(conv, "padding") != "VALID":
            continue
        pre = producers.get(conv.inputs[0])
        if pre is None or pre.op != "Transpose" or perm(pre) != [0, 2, 3, 1] or only_consumer(pre.name) is not conv:
            continue
        chain = [pre, conv]
        source = pre.inputs[0]
        pads = [0, 0, 0, 0]
        pad_value = 0.0
        pad = producers.get(source)
        if (
            pad is not None
            and pad.op in ("Pad", "PadV2")
            and only_consumer(pad.name) is pre
            and pad.inputs[1] in consts
        ):
            p = consts[pad.inputs[1]].astype(int)
            if not p[:2].any():
                pads = [int(p[3, 0]), int(p[3, 1]), int(p[2, 0]), int(p[2, 1])]  # F.pad order: W then H
                if pad.op == "PadV2":
                    pad_value = float(consts[pad.inputs[2]])
                chain.insert(0, pad)
                source = pad.inputs[0]
        tail = conv
        bias_name = ""
        nxt = only_consumer(conv.name)
        if nxt is not None and nxt.op in ("Add", "AddV2") and nxt.inputs[0] == conv.name and nxt.inputs[1] in consts:
            bias_name = nxt.inputs[1]
            chain.append(nxt)
            tail = nxt
        post = only_consumer(tail.name)
        if post is None or post.op != "Transpose" or perm(post) != [0, 3, 1, 2]:
            continue
        chain.append(post)
        tail = post
        activation, alpha = "", 0.0
        act = only_consumer(post.name)
        if act is not None and act.op in ("LeakyRelu", "Relu", "Relu6"):
            activation = {"LeakyRelu": "leaky_relu", "Relu": "relu", "Relu6": "relu6"}[act.op]
            alpha = float(act.attr.get("alpha", {}).get("f", 0.2))
            chain.append(act)
            tail = act
        kernel = consts[conv.inputs[1]]  # HWIO
        weight_name = conv.name + "/folded_weight"
        consts[weight_name] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        if bias_name:
            consts[conv.name + "/folded_bias"] = np.ascontiguousarray(consts[bias_name].reshape(-1))
        in_channels_per_group = kernel.shape[2]
        fused = Node(
            name=tail.name,  # consumers keep referring to the last node's name
            op="FusedConv2d",
            inputs=[source],
            attr={
                "weight": weight_name,
                "bias": conv.name + "/folded_bias" if bias_name else "",
                "stride": attr_ints(conv, "strides")[1:3],
                "pads": pads,
                "pad_value": pad_value,
                "activation": activation,
                "alpha": alpha,
                "in_channels_per_group": in_channels_per_group,
                "groups": 0,  # resolved below from the source's channel count at first run
            },
        )
        for node in chain:
            removed.add(node.name)
        replaced[tail.name] = fused
    nodes = []
    for node in graph.nodes:
        if node.name in replaced:
            nodes.append(replaced[node.name])
        elif node.name not in removed:
            nodes.append(node)
    out = Graph(nodes=nodes, consts=consts, inputs=graph.inputs, outputs=graph.outputs, input_shapes=graph.input_shapes)
    _resolve_groups(out)
    return out


def _resolve_groups(graph: Graph) -> None:
    """Fill in each fused convolution's group count by tracing channel counts through the graph."""
    channels: dict[str, int] = {}
    for node in graph.nodes:
        if node.op == "FusedConv2d":
            weight = graph.consts[node.attr["weight"]]
            source = node.inputs[0].split(":")[0]
            if source in channels:
                node.attr["groups"] = channels[source] // weight.shape[1]
            else:
                node.attr["groups"] = 1  # the graph input: ordinary convolution
            channels[node.name] = weight.shape[0]
        elif node.op in ("LeakyRelu", "Relu", "Relu6", "Sigmoid", "Identity", "Pad", "PadV2", "Add", "AddV2"):
            source = node.inputs[0].split(":")[0]
            if source in channels:
                channels[node.name] = channels[source]
        elif node.op == "ConcatV2":
            parts = [channels.get(i.split(":")[0]) for i in node.inputs[:-1]]
            axis = int(graph.consts.get(node.inputs[-1], np.array(-1)))
            if axis == 1 and all(p is not None for p in parts):
                channels[node.name] = sum(parts)  # type: ignore[arg-type]
