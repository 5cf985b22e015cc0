"""One detection pass over a frame: tiles in, network per tile, boxes merged and filtered.

Every backend that wraps a network shares this: the network only knows how to find people in one
crop; this module decides the crops from the scene hints and merges the results into
:class:`Detections` in frame pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from detector import frame_edges
from detector.scene import SceneHints
from detector.stacked import split_stacked
from detector.temporal import TemporalFilter, TemporalSettings
from detector.tiling import (
    Tile,
    cut_at_bottom,
    cut_at_top,
    drop_cut_boxes,
    fragments,
    nms,
    plan_tiles,
    plausible,
    whole_frame,
)
from detector.types import Detections

FLIP_TTA = ("off", "auto", "far", "tiles", "all")
"""Values of ``TiledDetector(flip_tta=...)``: which crops also run mirrored."""
AUTO_FLIP_SHARE = 0.5
"""``flip_tta="auto"`` mirrors the topmost band only when it is at most this share of the frame's network
input, i.e. when mirroring it adds at most half again to the frame's network work (docs/DETECTOR.md)."""


@dataclass(frozen=True)
class TileOutput:
    """What the network found in one tile, before any threshold: boxes ``(n, 4)`` in frame pixels, scores ``(n,)``."""

    tile: Tile
    xyxy_px: np.ndarray
    scores: np.ndarray


class Network(Protocol):
    """Finds people in crops of a frame; knows nothing about tiles or cameras."""

    input_px: int
    """Side of the (square) network input in pixels: the scale a crop is resized to."""
    target_person_px: float
    """Person height in input pixels that this network finds most reliably."""
    min_person_px: float
    """Smallest person height in input pixels that this network still finds reliably."""
    any_input_size: bool
    """True if the network takes inputs of any size (multiples of 32): tiles may be strips at their own
    scale (``infer``'s ``input_wh``); False or absent: square tiles resized the network's way."""

    def infer(
        self, crops_bgr: Sequence[np.ndarray], input_wh: Sequence[tuple[int, int] | None] | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per crop: boxes ``(n, 4)`` xyxy in that crop's pixels and scores ``(n,)`` in [0, 1].

        ``input_wh`` (only for ``any_input_size`` networks): per crop, the input size to resize it to,
        or None for the network's own choice. Networks with ``flips = True`` also take ``flip``: per
        crop, whether to run its mirror image too and average the two (test-time augmentation).
        """
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
        temporal: Confirm weak detections over consecutive frames and bridge short misses
            (:mod:`detector.temporal`), per camera; None for frame-by-frame output.
        weak_score_factor: With ``temporal``, candidates down to this fraction of their threshold
            enter the association as weak ones (reported only when a recent frame confirms them).
        min_height_ratio: With height hints, boxes shorter than this fraction of the expected height at
            their foot row are dropped (unless the frame's top or bottom edge cuts them): 0.6 keeps a
            1.0 m child under a 1.7 m nominal height, and drops a standing person's head-and-shoulders
            or legs, whose foot point would land metres away.
        max_height_ratio: Boxes taller than this multiple of the expected height are dropped.
        fragment_ratio: With height hints, a box shorter than this fraction of the expected height
            that lies mostly inside a full-height box is a part of that person and goes
            (:func:`detector.tiling.fragments`); 0 turns the rule off.
        keep_bottom_cut: Keep boxes on a tile's inner bottom edge, ranked below whole boxes, instead of
            dropping them (the band below holds that person whole, but at a scale where the network
            may miss them).
        complete_side_cuts: With height hints, a box cut by the image's left or right side is
            completed to the expected body width and goes when that body's foot point lies outside
            the frame (:mod:`detector.frame_edges`).
        side_cut_min_visible: With ``complete_side_cuts``, the share of the body width that must be
            in the frame (0.5: the foot point).
        split_stacked: With height hints, a box much taller than expected is split into two people
            one behind the other when the network's raw output holds a person-sized box at its top
            and one at its bottom (:mod:`detector.stacked`).
        split_evidence_factor: With ``split_stacked``, raw candidates down to this fraction of their
            tile's threshold count as evidence (the tall box itself passed its threshold).
        flip_tta: Which crops the network also sees mirrored (its raw outputs on the crop and the
            mirror averaged cell by cell; networks with ``flips``): ``"off"``, ``"far"`` (the
            topmost band's tiles, where people are smallest), ``"auto"`` (``"far"`` where that band
            is at most :data:`AUTO_FLIP_SHARE` of the frame's network input, else nothing),
            ``"tiles"`` (every tile, not the whole-frame pass) or ``"all"``.
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
        temporal: TemporalSettings | None = None,
        weak_score_factor: float = 0.6,
        min_height_ratio: float = 0.6,
        max_height_ratio: float = 2.0,
        fragment_ratio: float = 0.7,
        keep_bottom_cut: bool = True,
        complete_side_cuts: bool = True,
        side_cut_min_visible: float = frame_edges.MIN_VISIBLE_SHARE,
        split_stacked: bool = True,
        split_evidence_factor: float = 0.6,
        flip_tta: str = "off",
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
        self.min_height_ratio = min_height_ratio
        self.max_height_ratio = max_height_ratio
        self.fragment_ratio = fragment_ratio
        self.keep_bottom_cut = keep_bottom_cut
        self.complete_side_cuts = complete_side_cuts
        if not 0.0 < side_cut_min_visible <= 1.0:
            raise ValueError(f"side_cut_min_visible must lie in (0, 1], got {side_cut_min_visible}")
        self.side_cut_min_visible = side_cut_min_visible
        if not 0.0 < split_evidence_factor <= 1.0:
            raise ValueError(f"split_evidence_factor must lie in (0, 1], got {split_evidence_factor}")
        self.split_stacked = split_stacked
        self.split_evidence_factor = split_evidence_factor
        if not 0.0 <= min_height_ratio < max_height_ratio:
            raise ValueError(
                f"need 0 <= min_height_ratio < max_height_ratio, got {min_height_ratio}, {max_height_ratio}"
            )
        if not 0.0 < weak_score_factor <= 1.0:
            raise ValueError(f"weak_score_factor must lie in (0, 1], got {weak_score_factor}")
        if flip_tta not in FLIP_TTA:
            raise ValueError(f"flip_tta must be one of {FLIP_TTA}, got {flip_tta!r}")
        if flip_tta not in ("off", "auto") and not getattr(network, "flips", False):
            raise ValueError(f"flip_tta={flip_tta!r} needs a network that runs mirrored crops ({name} does not)")
        self.flip_tta = flip_tta
        self.temporal = temporal
        self.weak_score_factor = weak_score_factor if temporal is not None else 1.0
        self._filters: dict[str, TemporalFilter] = {}
        # Strips need a network that takes any input size; others get overlapping square tiles.
        self.strips = bool(getattr(network, "any_input_size", False))
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
                    strips=self.strips,
                )
            if self.whole_frame_pass or not tiles:
                tiles = whole_frame(image_wh) + tiles
            self._plans[image_wh] = tiles
        return self._plans[image_wh]

    def flipped(self, tiles: Sequence[Tile], image_wh: tuple[int, int]) -> list[bool]:
        """Per tile, whether ``flip_tta`` runs it mirrored too."""
        whole = [(t.width, t.height) == image_wh for t in tiles]
        if self.flip_tta == "all":
            return [True] * len(tiles)
        if self.flip_tta == "tiles":
            return [not w for w in whole]
        if self.flip_tta in ("far", "auto"):
            top = min((t.y0 for t, w in zip(tiles, whole, strict=True) if not w), default=None)
            far = [not w and t.y0 == top for t, w in zip(tiles, whole, strict=True)]
            if self.flip_tta == "far":
                return far
            pixels = [self.input_pixels(t) for t in tiles]
            fits = sum(p for p, f in zip(pixels, far, strict=True) if f) <= AUTO_FLIP_SHARE * sum(pixels)
            return far if fits else [False] * len(tiles)
        return [False] * len(tiles)

    def input_pixels(self, tile: Tile) -> int:
        """Network input pixels of one tile (what its forward pass costs, roughly)."""
        if tile.input_wh is not None:
            return tile.input_wh[0] * tile.input_wh[1]
        input_wh_for = getattr(self.network, "input_wh_for", None)
        if input_wh_for is not None:
            w, h = input_wh_for((tile.width, tile.height))
            return w * h
        return self.network.input_px**2

    def run_network(self, frame_bgr: np.ndarray) -> list[TileOutput]:
        """The network's raw output on every tile of this frame, boxes in frame pixels (no thresholds yet)."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"frame_bgr must have shape (H, W, 3), got shape {frame_bgr.shape}")
        height, width = frame_bgr.shape[:2]
        if self.hints is not None and self.hints.height_rows != height:
            raise ValueError(f"scene hints describe {self.hints.height_rows} rows but the frame has {height}")
        tiles = self.tiles_for((width, height))
        crops = [frame_bgr[t.y0 : t.y1, t.x0 : t.x1] for t in tiles]
        flip = self.flipped(tiles, (width, height)) if getattr(self.network, "flips", False) else []
        extra = {"flip": flip} if any(flip) else {}
        if self.strips:
            found = self.network.infer(crops, input_wh=[t.input_wh for t in tiles], **extra)
        else:
            found = self.network.infer(crops, **extra)
        outputs = []
        for tile, (xyxy, score) in zip(tiles, found, strict=True):
            offset = np.array([tile.x0, tile.y0, tile.x0, tile.y0], dtype=np.float64)
            outputs.append(TileOutput(tile=tile, xyxy_px=np.asarray(xyxy, np.float64) + offset, scores=score))
        return outputs

    def merge(
        self, outputs: Sequence[TileOutput], image_wh: tuple[int, int], *, weak_score_factor: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes ``(n, 4)``, scores ``(n,)`` and strong flags ``(n,)`` of one frame from its tiles' raw outputs.

        Thresholds per tile, boxes cut by inner tile edges dropped, non-maximum suppression across
        tiles, implausible sizes and feet off the floor removed. A box is *strong* when it passes its
        tile's threshold; with ``weak_score_factor < 1`` boxes down to that fraction of the threshold
        are kept too, as weak candidates for the temporal filter.
        """
        width, height = image_wh
        boxes, scores, strong, whole_in_tile = [], [], [], []
        evidence, evidence_scores = [], []
        splitting = self.split_stacked and self.hints is not None
        for out in outputs:
            tile, xyxy, score = out.tile, out.xyxy_px, out.scores
            whole = (tile.width, tile.height) == image_wh
            threshold = self.score_threshold if whole else self.tile_score_threshold
            if splitting:
                # Candidates whole in their tile, down to a fraction of its threshold: what the
                # network saw before suppression, for telling a stacked pair from one tall person.
                weak = score >= threshold * self.split_evidence_factor
                uncut = drop_cut_boxes(xyxy, tile, image_wh) & ~cut_at_top(xyxy, tile)
                evidence.append(xyxy[weak & uncut])
                evidence_scores.append(score[weak & uncut])
            keep = score >= threshold * weak_score_factor
            xyxy, score = xyxy[keep], score[keep]
            if not whole:
                # A person on a tile's bottom edge is whole in the band below by construction, but that
                # band's smaller scale may miss them: with keep_bottom_cut the cut box stays as a
                # fallback, ranked below whole boxes (the plausibility filter drops one cut too short).
                keep = drop_cut_boxes(xyxy, tile, image_wh, bottom=not self.keep_bottom_cut)
                xyxy, score = xyxy[keep], score[keep]
            boxes.append(xyxy)
            scores.append(score)
            strong.append(score >= threshold)
            whole_in_tile.append(~(cut_at_top(xyxy, tile) | cut_at_bottom(xyxy, tile, image_wh)))
        xyxy = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        score = np.concatenate(scores) if scores else np.zeros(0)
        is_strong = np.concatenate(strong) if strong else np.zeros(0, dtype=bool)
        uncut = np.concatenate(whole_in_tile) if whole_in_tile else np.zeros(0, dtype=bool)
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, width)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, height)
        valid = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        xyxy, score, is_strong, uncut = xyxy[valid], score[valid], is_strong[valid], uncut[valid]
        if len(xyxy):
            containment = 0.85 if len(outputs) > 1 else 1.01
            # Ranking: strong before weak (a weak box never suppresses one that passes its threshold), then
            # whole before cut by a tile's top edge (the tile above holds that person whole: a fragment of
            # their legs must not suppress them), then score.
            rank = score + 2.0 * is_strong + 1.0 * uncut
            kept = nms(xyxy, rank, iou_threshold=self.nms_iou, containment_threshold=containment)
            xyxy, score, is_strong = xyxy[kept], score[kept], is_strong[kept]
        if splitting and len(xyxy) and evidence:
            xyxy, source = split_stacked(
                xyxy,
                candidates_xyxy_px=np.concatenate(evidence),
                candidates_scores=np.concatenate(evidence_scores),
                hints=self.hints,
            )
            score, is_strong = score[source], is_strong[source]
        if self.complete_side_cuts and self.hints is not None and len(xyxy):
            expected = self.hints.expected_height_px(xyxy[:, 3])
            xyxy, inside = frame_edges.complete_side_cuts(
                xyxy, expected, image_width_px=width, min_visible_share=self.side_cut_min_visible
            )
            xyxy, score, is_strong = xyxy[inside], score[inside], is_strong[inside]
        if self.filter_implausible and self.hints is not None and len(xyxy):
            ok = plausible(xyxy, self.hints, min_ratio=self.min_height_ratio, max_ratio=self.max_height_ratio)
            if self.fragment_ratio > 0:
                ok &= ~fragments(xyxy, self.hints, short_ratio=self.fragment_ratio)
            xyxy, score, is_strong = xyxy[ok], score[ok], is_strong[ok]
        return xyxy, score, is_strong

    def detect(self, frame_bgr: np.ndarray, *, camera_id: str, timestamp_s: float) -> Detections:
        """Find the people in one BGR frame ``(H, W, 3)`` uint8; boxes in frame pixels.

        With ``temporal`` set, successive calls for the same ``camera_id`` must come in capture order.
        """
        outputs = self.run_network(frame_bgr)
        image_wh = (frame_bgr.shape[1], frame_bgr.shape[0])
        xyxy, score, strong = self.merge(outputs, image_wh, weak_score_factor=self.weak_score_factor)
        if self.temporal is not None:
            temporal = self._filters.setdefault(camera_id, TemporalFilter(self.temporal))
            xyxy, score = temporal.update(xyxy_px=xyxy, scores=score, strong=strong, timestamp_s=timestamp_s)
        return Detections(
            camera_id=camera_id, timestamp_s=timestamp_s, xyxy_px=xyxy, confidence=np.clip(score, 0.0, 1.0)
        )
