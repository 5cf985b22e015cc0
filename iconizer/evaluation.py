"""Scoring what the public sees: one station step of the pipeline against the same step on ground truth.

Both sides are lists of :class:`IconFrame` (one per floor) made by the same iconizer settings:
the pipeline's from detections, the truth's from ground-truth foot points through the same
calibration. Zone counts and public levels are compared zone by zone; the published (coarsened)
dots are matched one to one within :data:`DOT_MATCH_RADIUS_M`. Pure functions over the frames:
``crowdmap eval station`` and the tests report the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from homography.floor_metrics import match_points
from iconizer.coarsen import CoarsenMethod
from iconizer.types import IconFrame

# Two dots match when at most this far apart. Both sides are coarsened alike (same grid, same
# jitter key), so one position gives one dot on both; a position a few centimetres across a cell
# line from the truth's lands in the neighbouring cell, whose centre is at most one cell diagonal
# away (0.71 m for the default 0.5 m grid). 0.75 m accepts that and nothing two cells off.
DOT_MATCH_RADIUS_M = 0.75


def dot_match_radius_covers(
    coarsen_m: float, method: CoarsenMethod = "grid", radius_m: float = DOT_MATCH_RADIUS_M
) -> bool:
    """Whether the dots of two positions in neighbouring cells, coarsened alike, always match.

    Grid: neighbouring cell centres lie at most a cell diagonal apart. Jitter: the published points
    of two neighbouring cells may lie at opposite corners of the pair, two cell diagonals apart; with
    0.5 m cells a person a few centimetres across a cell line can be published 1.41 m from the
    truth's dot, so dot figures then charge some of the jitter to the pipeline.
    """
    diagonal_m = float(coarsen_m) * float(np.sqrt(2.0))
    farthest_m = diagonal_m if method == "grid" else 2.0 * diagonal_m
    return bool(farthest_m < radius_m)


@dataclass(frozen=True)
class DotMatch:
    """Dots of one floor matched one to one with the truth's.

    Attributes:
        dots: Published dots of the pipeline.
        truth_dots: Published dots of the truth.
        distances_m: ``(matched,)`` distance of every matched pair, metres.
    """

    dots: int
    truth_dots: int
    distances_m: np.ndarray

    @property
    def matched(self) -> int:
        return len(self.distances_m)


def match_dots(*, dots_m: np.ndarray, truth_m: np.ndarray, radius_m: float = DOT_MATCH_RADIUS_M) -> DotMatch:
    """Match dots ``(p, 2)`` to true dots ``(t, 2)``: most pairs within ``radius_m``, then least total distance.

    Raises:
        ValueError: a radius that is not positive.
    """
    if not radius_m > 0:
        raise ValueError(f"radius_m must be positive, got {radius_m}")
    dots = np.asarray(dots_m, dtype=np.float64).reshape(-1, 2)
    truth = np.asarray(truth_m, dtype=np.float64).reshape(-1, 2)
    _, _, distances = match_points(predicted_m=dots, truth_m=truth, max_distance_m=radius_m)
    return DotMatch(dots=len(dots), truth_dots=len(truth), distances_m=distances)


@dataclass(frozen=True)
class StepComparison:
    """One station step of the pipeline compared with the same step on the truth.

    Only zones the truth reports live (a camera covers them) are scored: a zone stale on both
    sides says nothing about the pipeline. A zone stale in the pipeline only counts 0 people and
    never agrees on its level.

    Attributes:
        zone_ids: ``(z,)`` scored zones, floors in layout order.
        count_error: ``(z,)`` pipeline count minus true count, persons.
        level_agrees: ``(z,)`` True where both publish the same public level.
        station_count_error: Dots published minus true dots published, all floors.
        dots: Dot matches, one per floor.
    """

    zone_ids: tuple[str, ...]
    count_error: np.ndarray
    level_agrees: np.ndarray
    station_count_error: int
    dots: tuple[DotMatch, ...]


def compare_step(
    pipeline: Sequence[IconFrame], truth: Sequence[IconFrame], *, radius_m: float = DOT_MATCH_RADIUS_M
) -> StepComparison:
    """Compare one station step (an :class:`IconFrame` per floor) with the truth's step.

    Raises:
        ValueError: the two steps have different floors, or different zones on a floor.
    """
    floors = [f.floor_id for f in pipeline]
    if floors != [f.floor_id for f in truth]:
        raise ValueError(f"the steps have different floors: {floors} and {[f.floor_id for f in truth]}")
    zone_ids: list[str] = []
    count_error: list[int] = []
    agrees: list[bool] = []
    matches = []
    for ours, theirs in zip(pipeline, truth, strict=True):
        if [z.zone_id for z in ours.zones] != [z.zone_id for z in theirs.zones]:
            raise ValueError(
                f"floor {ours.floor_id!r}: the steps have different zones: "
                f"{[z.zone_id for z in ours.zones]} and {[z.zone_id for z in theirs.zones]}"
            )
        for zone, true_zone in zip(ours.zones, theirs.zones, strict=True):
            if true_zone.stale:
                continue
            zone_ids.append(zone.zone_id)
            count_error.append(zone.count - true_zone.count)
            agrees.append(not zone.stale and zone.level == true_zone.level)
        matches.append(match_dots(dots_m=ours.dots_m, truth_m=theirs.dots_m, radius_m=radius_m))
    return StepComparison(
        zone_ids=tuple(zone_ids),
        count_error=np.asarray(count_error, dtype=np.int64),
        level_agrees=np.asarray(agrees, dtype=bool),
        station_count_error=sum(len(f) for f in pipeline) - sum(len(f) for f in truth),
        dots=tuple(matches),
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    """A share, or None (JSON null) when nothing was there to count."""
    return float(numerator) / denominator if denominator else None


@dataclass
class StationScore:
    """Accumulates :func:`compare_step` over frames; :meth:`summary` gives ``crowdmap eval station``'s figures.

    Attributes:
        radius_m: Dot matching radius, metres.
    """

    radius_m: float = DOT_MATCH_RADIUS_M
    frames: int = 0
    _zone_ids: list[str] = field(default_factory=list)
    _count_errors: list[int] = field(default_factory=list)
    _level_agrees: list[bool] = field(default_factory=list)
    _station_errors: list[int] = field(default_factory=list)
    _dots: int = 0
    _truth_dots: int = 0
    _distances_m: list[np.ndarray] = field(default_factory=list)

    def add(self, pipeline: Sequence[IconFrame], truth: Sequence[IconFrame]) -> StepComparison:
        """Score one station step; returns its comparison."""
        step = compare_step(pipeline, truth, radius_m=self.radius_m)
        self.frames += 1
        self._zone_ids.extend(step.zone_ids)
        self._count_errors.extend(step.count_error.tolist())
        self._level_agrees.extend(step.level_agrees.tolist())
        self._station_errors.append(step.station_count_error)
        for match in step.dots:
            self._dots += match.dots
            self._truth_dots += match.truth_dots
            self._distances_m.append(match.distances_m)
        return step

    def summary(self) -> dict[str, object]:
        """The stable figures (None where undefined, e.g. recall with no true dot) and per-zone detail.

        Keys: ``zone_count_mae`` and ``zone_count_bias`` (persons per zone per frame, pipeline
        minus truth), ``station_count_mae`` (dots per frame), ``level_agreement`` (share of
        zone-frames with the same public level), ``dot_precision``, ``dot_recall``,
        ``dot_error_m_median``, ``frames``, ``zone_frames``, ``dots``, ``truth_dots``,
        ``matched_dots``, ``dot_match_radius_m`` and ``zones`` (the same per zone).
        """
        errors = np.asarray(self._count_errors, dtype=np.float64)
        agrees = np.asarray(self._level_agrees, dtype=bool)
        distances = np.concatenate(self._distances_m) if self._distances_m else np.zeros(0)
        matched = len(distances)
        zones: dict[str, dict[str, object]] = {}
        ids = np.asarray(self._zone_ids)
        for zone_id in dict.fromkeys(self._zone_ids):
            mine = ids == zone_id
            zones[zone_id] = {
                "count_mae": float(np.abs(errors[mine]).mean()),
                "count_bias": float(errors[mine].mean()),
                "level_agreement": float(agrees[mine].mean()),
                "frames": int(mine.sum()),
            }
        return {
            "zone_count_mae": float(np.abs(errors).mean()) if len(errors) else None,
            "zone_count_bias": float(errors.mean()) if len(errors) else None,
            "station_count_mae": float(np.abs(self._station_errors).mean()) if self._station_errors else None,
            "level_agreement": float(agrees.mean()) if len(agrees) else None,
            "dot_precision": _ratio(matched, self._dots),
            "dot_recall": _ratio(matched, self._truth_dots),
            "dot_error_m_median": float(np.median(distances)) if matched else None,
            "frames": self.frames,
            "zone_frames": len(errors),
            "dots": self._dots,
            "truth_dots": self._truth_dots,
            "matched_dots": matched,
            "dot_match_radius_m": self.radius_m,
            "zones": zones,
        }
