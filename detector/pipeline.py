"""One detection pass over a frame: tiles in, network per tile, boxes merged and filtered.

Every backend that wraps a network shares this: the network only knows how to find people in one
crop; this module decides the crops from the scene hints and merges the results into
:class:`Detections` in frame pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from detector.scene import SceneHints
from detector.tiling import Tile, drop_cut_boxes, nms, plan_tiles, plausible, whole_frame
from detector.types import Detections


class Network(Protocol):
    """Finds people in crops of a frame; knows nothing about tiles or cameras."""

    input_px: int
    """Side of the (square) network input in pixels: the scale a crop is resized to."""
    target_person_px: float
    """Person height in input pixels that this network finds most reliably."""
    min_person_px: float
    """Smallest person height in input pixels that this network still finds reliably."""

    def infer(self, crops_bgr: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: boxes ``(n, 4)`` xyxy in that crop's pixels and scores ``(n,)`` in [0, 1]."""
        ...


def scene_hints_from_options(person_height_px: np.ndarray | None, floor_mask: np.ndarray | None) -> SceneHints | None:
    """Build hints from the two runtime options, or None when neither is given."""
    if person_height_px is None and floor_mask is None:
        return None
    if person_height_px is None:
        mask = np.asarray(floor_mask, dtype=bool)
        # A floor mask alone still restricts detections; no height knowledge (NaN) means any size.
        return SceneHints(person_height_px=np.full(mask.shape[0], np.nan), floor_mask=mask)
    return SceneHints(person_height_px=person_height_px, floor_mask=floor_mask)


class TiledDetector:
    """A :class:`detector.Detector` running a :class:`Network` on scale-aware tiles.

    Args:
        network: The network to run on each crop.
        name: Backend name, for logs.
        hints: Scene knowledge, or None to run on the whole frame only.
        score_threshold: Minimum score of a kept box from the whole-frame pass.
        tile_score_threshold: Minimum score of a kept box from a tile; upscaled crops of small,
            blurred people score lower for the same certainty, so tiles get their own threshold
            (None: the same as ``score_threshold``).
        nms_iou: IoU above which the weaker of two boxes is dropped.
        whole_frame_pass: Also run the whole frame (finds people larger than the tiles expect).
        max_tiles: Upper bound on tiles per frame.
        filter_implausible: Drop boxes whose size does not fit their foot row, or whose foot is off the floor.
    """

    def __init__(
        self,
        *,
        network: Network,
        name: str,
        hints: SceneHints | None = None,
        score_threshold: float = 0.4,
        tile_score_threshold: float | None = None,
        nms_iou: float = 0.5,
        whole_frame_pass: bool = True,
        max_tiles: int = 64,
        filter_implausible: bool = True,
    ) -> None:
        if not 0.0 <= score_threshold <= 1.0:
            raise ValueError(f"score_threshold must lie in [0, 1], got {score_threshold}")
        if not 0.0 < nms_iou <= 1.0:
            raise ValueError(f"nms_iou must lie in (0, 1], got {nms_iou}")
        self.network = network
        self.name = name
        self.hints = hints
        self.score_threshold = score_threshold
        self.tile_score_threshold = score_threshold if tile_score_threshold is None else tile_score_threshold
        if not 0.0 <= self.tile_score_threshold <= 1.0:
            raise ValueError(f"tile_score_threshold must lie in [0, 1], got {tile_score_threshold}")
        self.nms_iou = nms_iou
        self.whole_frame_pass = whole_frame_pass
        self.max_tiles = max_tiles
        self.filter_implausible = filter_implausible
        self._plans: dict[tuple[int, int], list[Tile]] = {}

    def tiles_for(self, image_wh: tuple[int, int]) -> list[Tile]:
        """The tiles run on a frame of this size (cached: the scene does not move)."""
        if image_wh not in self._plans:
            tiles: list[Tile] = []
            hints = self.hints
            if hints is not None and hints.height_rows == image_wh[1] and np.isfinite(hints.person_height_px).any():
                tiles = plan_tiles(
                    hints=hints,
                    image_wh=image_wh,
                    input_px=self.network.input_px,
                    target_person_px=self.network.target_person_px,
                    min_person_px=getattr(self.network, "min_person_px", None),
                    max_tiles=self.max_tiles,
                )
            if self.whole_frame_pass or not tiles:
                tiles = whole_frame(image_wh) + tiles
            self._plans[image_wh] = tiles
        return self._plans[image_wh]

    def detect(self, frame_bgr: np.ndarray, *, camera_id: str, timestamp: float) -> Detections:
        """Find the people in one BGR frame ``(H, W, 3)`` uint8; boxes in frame pixels."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"frame_bgr must have shape (H, W, 3), got shape {frame_bgr.shape}")
        height, width = frame_bgr.shape[:2]
        image_wh = (width, height)
        if self.hints is not None and self.hints.height_rows != height:
            raise ValueError(f"scene hints describe {self.hints.height_rows} rows but the frame has {height}")
        tiles = self.tiles_for(image_wh)
        crops = [frame_bgr[t.y0 : t.y1, t.x0 : t.x1] for t in tiles]
        boxes, scores = [], []
        for tile, (xyxy, score) in zip(tiles, self.network.infer(crops), strict=True):
            whole = (tile.width, tile.height) == image_wh
            keep = score >= (self.score_threshold if whole else self.tile_score_threshold)
            xyxy = xyxy[keep] + np.array([tile.x0, tile.y0, tile.x0, tile.y0], dtype=np.float64)
            score = score[keep]
            if not whole:
                cut = drop_cut_boxes(xyxy, tile, image_wh)
                xyxy, score = xyxy[cut], score[cut]
            boxes.append(xyxy)
            scores.append(score)
        xyxy = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        score = np.concatenate(scores) if scores else np.zeros(0)
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, width)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, height)
        valid = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        xyxy, score = xyxy[valid], score[valid]
        if len(xyxy):
            kept = nms(xyxy, score, iou_threshold=self.nms_iou, containment_threshold=0.85 if len(tiles) > 1 else 1.01)
            xyxy, score = xyxy[kept], score[kept]
        if self.filter_implausible and self.hints is not None and len(xyxy):
            ok = plausible(xyxy, self.hints)
            xyxy, score = xyxy[ok], score[ok]
        return Detections(camera_id=camera_id, timestamp=timestamp, xyxy_px=xyxy, confidence=np.clip(score, 0.0, 1.0))
