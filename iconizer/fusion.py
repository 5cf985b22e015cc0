"""One dot per person: merge the floor positions that overlapping cameras report at one time step.

Each camera places a person with an error that grows with the viewing distance (its
``FloorPositions.sigma_m``) plus the foot point's own offset from the body's centre. Two reports
from different cameras are the same person when they lie within a gate of a few combined sigmas.

1. Greedy merging, closest pair (in sigmas) first, with complete linkage (every pair in a cluster
   must pass the gate, so clusters do not chain along a queue) and a cannot-link rule: two people
   that one camera clearly sees apart are never merged, however close they stand.
2. Refinement, because greedy merging can lock in a wrong partition when two people stand half a
   metre apart: reports move to the cluster centre that explains them best, and clusters that
   are one person split in two merge.
3. The fused position weighs each report by its confidence over its variance, so a close camera
   outweighs a far one. The fused confidence combines the reports as independent evidence and,
   when the cameras' coverage is known, drops for each live camera that covers the spot but saw
   nobody there: that is what removes most single-camera false detections.

Pure numpy and shapely: no clocks, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from arrays import readonly_array
from homography.types import FloorPositions

# The foot point (bottom centre of a box) lies on the body's near side, not its centre: an error
# of about a body radius that no pixel accuracy removes, different for each camera's viewpoint.
DEFAULT_BODY_SIGMA_M = 0.15
# Reports from two cameras within this many combined sigmas may be the same person.
DEFAULT_GATE_SIGMAS = 3.0
# Never merge reports further apart than this, whatever the sigmas say: two people.
DEFAULT_MAX_GATE_M = 2.0
# Two reports of one camera with at least this confidence are two people (cannot-link); weaker
# ones may be duplicate detections of one person and can merge.
DEFAULT_CLEAR_CONFIDENCE = 0.5
# A camera misses about one person in three it covers in a crowd (detector misses, occlusion).
DEFAULT_MISS_PROBABILITY = 0.3
# Confidences are clipped to this margin from 0 and 1 before they become odds.
_CONFIDENCE_MARGIN = 0.01


@dataclass(frozen=True)
class FusedPositions:
    """People on one floor at one time step, one entry per person, merged over cameras.

    Attributes:
        floor_id: The floor whose plan the coordinates refer to.
        timestamp_s: The latest capture time among the merged reports, unix seconds.
        xy_m: Positions ``(n, 2)`` in metres.
        confidence: Probability ``(n,)`` in ``[0, 1]`` that someone is there: the merged reports'
            confidences combined as independent evidence, lowered for covering cameras that saw
            nothing there (when coverage is known).
        sigma_m: Expected position error ``(n,)`` in metres after merging.
        n_cameras: Number of cameras ``(n,)`` that saw each person.
    """

    floor_id: str
    timestamp_s: float
    xy_m: np.ndarray
    confidence: np.ndarray
    sigma_m: np.ndarray
    n_cameras: np.ndarray

    def __post_init__(self) -> None:
        xy = readonly_array(self.xy_m, "xy_m", (2,))
        n = len(xy)
        arrays = {
            "confidence": readonly_array(self.confidence, "confidence", ()),
            "sigma_m": readonly_array(self.sigma_m, "sigma_m", ()),
            "n_cameras": readonly_array(self.n_cameras, "n_cameras", (), dtype=np.int64),
        }
        for name, array in arrays.items():
            if len(array) != n:
                raise ValueError(f"{name} must have shape ({n},) to match xy_m, got shape {array.shape}")
        if np.any((arrays["confidence"] < 0) | (arrays["confidence"] > 1)):
            raise ValueError("confidence must lie in [0, 1]")
        if np.any(arrays["sigma_m"] <= 0) or np.any(arrays["n_cameras"] < 1):
            raise ValueError("sigma_m must be positive and n_cameras at least 1")
        if not self.floor_id or not math.isfinite(self.timestamp_s):
            raise ValueError(
                f"floor_id must be non-empty and timestamp_s finite, got {self.floor_id!r}, {self.timestamp_s}"
            )
        object.__setattr__(self, "xy_m", xy)
        for name, array in arrays.items():
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.xy_m)


@dataclass(frozen=True)
class FusionSettings:
    """How readily reports merge.

    Attributes:
        gate_sigmas: Reports closer than this many combined sigmas may merge.
        max_gate_m: Absolute ceiling on the gate, metres.
        body_sigma_m: Error of a foot point as the body's position, metres, added in quadrature
            to every report's ``sigma_m``.
        clear_confidence: Two reports of one camera both at or above this confidence never merge.
        miss_probability: Chance that a live camera covering a spot fails to report a person
            standing there (missed detection or occlusion); with coverage given to :func:`fuse`,
            each silent covering camera multiplies a dot's odds of being real by this.
        min_confidence: Dots whose fused confidence falls below this are dropped.
    """

    gate_sigmas: float = DEFAULT_GATE_SIGMAS
    max_gate_m: float = DEFAULT_MAX_GATE_M
    body_sigma_m: float = DEFAULT_BODY_SIGMA_M
    clear_confidence: float = DEFAULT_CLEAR_CONFIDENCE
    miss_probability: float = DEFAULT_MISS_PROBABILITY
    min_confidence: float = 0.0

    def __post_init__(self) -> None:
        if not (self.gate_sigmas > 0 and self.max_gate_m > 0 and self.body_sigma_m >= 0):
            raise ValueError(
                "gate_sigmas and max_gate_m must be positive and body_sigma_m >= 0, got "
                f"{self.gate_sigmas}, {self.max_gate_m}, {self.body_sigma_m}"
            )
        for name in ("clear_confidence", "miss_probability", "min_confidence"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")


def _stack(positions: Sequence[FloorPositions]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All reports as parallel arrays: xy ``(N, 2)``, confidence, sigma and camera index ``(N,)``."""
    xy = np.concatenate([p.xy_m for p in positions]) if positions else np.zeros((0, 2))
    confidence = np.concatenate([p.confidence for p in positions]) if positions else np.zeros(0)
    sigma = np.concatenate([p.sigma_m for p in positions]) if positions else np.zeros(0)
    cameras = {camera_id: i for i, camera_id in enumerate(dict.fromkeys(p.camera_id for p in positions))}
    camera = np.concatenate([np.full(len(p), cameras[p.camera_id]) for p in positions]) if positions else np.zeros(0)
    return xy, confidence, sigma, camera.astype(np.int64)


def _pairs_within(xy_m: np.ndarray, reach_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(p,), (p,)`` of points ``(N, 2)`` within ``reach_m`` in both x and y, each pair once.

    A sweep along x (sort, then a sorted search for each point's window) instead of all N^2
    distances: at 40 people x 7 cameras it leaves about a tenth of the pairs.
    """
    n = len(xy_m)
    order = np.argsort(xy_m[:, 0], kind="stable")
    xs = xy_m[order, 0]
    count = np.searchsorted(xs, xs + reach_m, side="right") - np.arange(n) - 1
    start = np.repeat(np.arange(n), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    first, second = order[start], order[start + 1 + offset]
    near_in_y = np.abs(xy_m[first, 1] - xy_m[second, 1]) <= reach_m
    return first[near_in_y], second[near_in_y]


def cluster_reports(
    *,
    xy_m: np.ndarray,
    sigma_m: np.ndarray,
    camera: np.ndarray,
    confidence: np.ndarray,
    settings: FusionSettings = FusionSettings(),
) -> np.ndarray:
    """Group reports of one time step into people.

    Args:
        xy_m: Report positions ``(N, 2)``, metres.
        sigma_m: Their expected errors ``(N,)``, metres, body offset included.
        camera: Index of the camera of each report ``(N,)``.
        confidence: Detection confidences ``(N,)``.
        settings: Gate and cannot-link parameters.

    Returns:
        A cluster label ``(N,)`` per report, ``0..k-1``.
    """
    n = len(xy_m)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first, second = _pairs_within(xy_m, settings.max_gate_m)
    distance = np.hypot(xy_m[first, 0] - xy_m[second, 0], xy_m[first, 1] - xy_m[second, 1])
    combined = np.sqrt(sigma_m[first] ** 2 + sigma_m[second] ** 2)
    gate = np.minimum(settings.gate_sigmas * combined, settings.max_gate_m)
    clear = confidence >= settings.clear_confidence
    # Reports a camera clearly sees as two people are never one; neither is anything beyond the gate.
    compatible = (distance <= gate) & ~((camera[first] == camera[second]) & clear[first] & clear[second])
    first, second = first[compatible], second[compatible]
    order = np.argsort(distance[compatible] / combined[compatible], kind="stable")
    # Clusters are named by one member (their "root"). Bit sets in Python integers: ``inside[a]``
    # holds cluster a's reports, ``linkable[a]`` the reports compatible with *every* report of a.
    # Complete linkage (which also carries the cannot-link rule over to whole clusters) is then
    # "inside[b] is a subset of linkable[a]", and a merge two ANDs/ORs: far cheaper than numpy
    # calls on single elements.
    first_list, second_list = first[order].tolist(), second[order].tolist()
    linkable = [1 << i for i in range(n)]
    for i, j in zip(first_list, second_list, strict=True):
        linkable[i] |= 1 << j
        linkable[j] |= 1 << i
    inside = [1 << i for i in range(n)]
    label = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for i, j in zip(first_list, second_list, strict=True):
        a, b = label[i], label[j]
        if a == b or linkable[a] & inside[b] != inside[b]:
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        linkable[a] &= linkable[b]
        inside[a] |= inside[b]
        for q in members[b]:
            label[q] = a
        members[a].extend(members.pop(b))
    _, relabelled = np.unique(np.asarray(label), return_inverse=True)
    return relabelled.astype(np.int64)


def _report_weight(confidence: np.ndarray, sigma_m: np.ndarray) -> np.ndarray:
    """Inverse-variance weights ``(N,)``, scaled by confidence so a doubtful report counts for less."""
    return np.maximum(confidence, 1e-6) / sigma_m**2


def _cluster_sums(
    label: np.ndarray, k: int, xy_m: np.ndarray, weight: np.ndarray, precision: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster: total weight ``(k,)``, weighted position sums ``(k, 2)``, total precision 1 / sigma^2 ``(k,)``."""
    total = np.bincount(label, weights=weight, minlength=k)
    sums = np.column_stack([np.bincount(label, weights=weight * xy_m[:, axis], minlength=k) for axis in range(2)])
    return total, sums, np.bincount(label, weights=precision, minlength=k)


def refine_clusters(
    *,
    label: np.ndarray,
    xy_m: np.ndarray,
    sigma_m: np.ndarray,
    camera: np.ndarray,
    confidence: np.ndarray,
    settings: FusionSettings = FusionSettings(),
    iterations: int = 2,
) -> np.ndarray:
    """Repair greedy clustering where people stand close together.

    Greedy merging takes the closest pair first, so with two people half a metre apart one noisy
    report can start a wrong pair, and the cannot-link rule then locks in a wrong partition: one
    person split in two, the other pulled off. Each round here moves every report to the cluster
    whose centre (without that report) explains it best, in sigmas, with at most one clear report
    per camera and cluster, or leaves it alone when none is within the gate; then rounds repeat
    until nothing moves.

    Returns:
        Refined labels ``(N,)``, ``0..k-1``.
    """
    n = len(xy_m)
    if n < 2:
        return label
    clear = confidence >= settings.clear_confidence
    weight = _report_weight(confidence, sigma_m)
    precision = 1.0 / sigma_m**2
    gate2 = settings.gate_sigmas**2
    for _ in range(iterations):
        k = int(label.max()) + 1
        total, sums, cluster_precision = _cluster_sums(label, k, xy_m, weight, precision)
        size = np.bincount(label, minlength=k)
        # Only clusters of two or more reports are targets: joining a singleton is the greedy
        # step's job, and it already judged those pairs. None at all (one camera, or nobody
        # seen twice): nothing can move.
        targets = np.flatnonzero(size >= 2)
        if len(targets) == 0:
            break
        column = np.full(k, -1)
        column[targets] = np.arange(len(targets))
        centres = sums[targets] / total[targets, None]
        offset = xy_m[:, None, :] - centres[None, :, :]
        distance2 = np.einsum("nkd,nkd->nk", offset, offset)
        cost = distance2 / (sigma_m[:, None] ** 2 + 1.0 / cluster_precision[None, targets])
        cost[distance2 > settings.max_gate_m**2] = np.inf
        # A report's own cluster is judged without it, else it would always explain itself best.
        member = np.flatnonzero(column[label] >= 0)
        own = label[member]
        own_total = total[own] - weight[member]
        own_centre = (sums[own] - weight[member, None] * xy_m[member]) / own_total[:, None]
        own_precision = cluster_precision[own] - precision[member]
        own_distance2 = np.sum((xy_m[member] - own_centre) ** 2, axis=1)
        cost[member, column[own]] = np.where(
            own_distance2 <= settings.max_gate_m**2,
            own_distance2 / (sigma_m[member] ** 2 + 1.0 / own_precision),
            np.inf,
        )
        chosen = _assign_reports(cost, gate2, camera, clear)
        new_label = np.where(chosen >= 0, targets[np.maximum(chosen, 0)], -1)
        unassigned = np.flatnonzero(new_label < 0)
        new_label[unassigned] = k + np.arange(len(unassigned))
        _, new_label = np.unique(new_label, return_inverse=True)
        new_label = _merge_split_people(new_label.astype(np.int64), xy_m, sigma_m, camera, clear, weight, settings)
        if np.array_equal(new_label, label):
            break
        label = new_label
    return label


def _assign_reports(cost: np.ndarray, gate2: float, camera: np.ndarray, clear: np.ndarray) -> np.ndarray:
    """Each report's cheapest cluster below ``gate2`` ``(N,)`` (-1: none), one clear report per camera each.

    Nearly every report's first choice is free, so those are taken at once; only the few clear
    reports that collide with a cheaper report of their own camera walk down their other choices.
    """
    n, k = cost.shape
    rows = np.arange(n)
    best = np.argmin(cost, axis=1)
    label = np.where(cost[rows, best] < gate2, best, -1)
    contested = np.flatnonzero(clear & (label >= 0))
    key = camera[contested] * k + label[contested]
    order = np.lexsort((cost[contested, label[contested]], key))
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = key[order][1:] == key[order][:-1]
    losers = contested[order[repeated]]
    if len(losers) == 0:
        return label
    label[losers] = -1
    winners = contested[label[contested] >= 0]
    taken = set((camera[winners] * k + label[winners]).tolist())
    for i in losers[np.argsort(cost[losers, best[losers]], kind="stable")].tolist():
        for c in np.argsort(cost[i], kind="stable").tolist():
            if cost[i, c] >= gate2:
                break
            if int(camera[i]) * k + c not in taken:
                taken.add(int(camera[i]) * k + c)
                label[i] = c
                break
    return label


def _merge_split_people(
    label: np.ndarray,
    xy_m: np.ndarray,
    sigma_m: np.ndarray,
    camera: np.ndarray,
    clear: np.ndarray,
    weight: np.ndarray,
    settings: FusionSettings,
) -> np.ndarray:
    """Merge clusters that are one person split in two, giving back one camera's extra report.

    A split person leaves two clusters close together that share at most one camera: the camera
    whose report of a neighbour drifted onto them. Two real neighbours share every camera that
    sees both. So clusters within the gate sharing at most one camera merge, and the shared
    camera's report farther from the merged centre leaves (the next round places it).
    """
    k = int(label.max()) + 1
    if k < 2:
        return label
    precision = 1.0 / sigma_m**2
    total, sums, cluster_precision = _cluster_sums(label, k, xy_m, weight, precision)
    centres = sums / total[:, None]
    size = np.bincount(label, minlength=k)
    masks = np.zeros(k, dtype=np.int64)
    np.bitwise_or.at(masks, label[clear], np.left_shift(1, camera[clear]).astype(np.int64))
    first, second = _pairs_within(centres, settings.max_gate_m)
    if len(first) == 0:
        return label
    offset = centres[first] - centres[second]
    distance2 = np.sum(offset**2, axis=1)
    combined2 = 1.0 / cluster_precision[first] + 1.0 / cluster_precision[second]
    shared = masks[first] & masks[second]
    # At most one shared camera: n & (n - 1) clears the lowest set bit.
    candidates = (
        (distance2 < settings.gate_sigmas**2 * combined2)
        & (distance2 <= settings.max_gate_m**2)
        & ((shared & (shared - 1)) == 0)
        & (size[first] + size[second] > 2)
    )
    first, second, shared = first[candidates], second[candidates], shared[candidates]
    order = np.argsort(distance2[candidates] / combined2[candidates], kind="stable")
    label = label.copy()
    used: set[int] = set()
    fresh = k
    for a, b, both in zip(first[order].tolist(), second[order].tolist(), shared[order].tolist(), strict=True):
        if a in used or b in used:
            continue
        used.update((a, b))
        members = np.flatnonzero((label == a) | (label == b))
        centre = (sums[a] + sums[b]) / (total[a] + total[b])
        label[members] = a
        if both:
            cam = int(both).bit_length() - 1
            twins = members[(camera[members] == cam) & clear[members]]
            farther = twins[np.argmax(np.sum((xy_m[twins] - centre) ** 2, axis=1))]
            label[farther] = fresh
            fresh += 1
    _, dense = np.unique(label, return_inverse=True)
    return dense.astype(np.int64)


def fuse(
    positions: Sequence[FloorPositions],
    *,
    settings: FusionSettings = FusionSettings(),
    floor_id: str | None = None,
    timestamp_s: float | None = None,
    coverage: Mapping[str, shapely.Geometry] | None = None,
) -> FusedPositions:
    """Merge one time step's positions from the cameras of one floor into one entry per person.

    Args:
        positions: Each camera's positions at this time step (at most one entry per camera is
            expected; entries of the same camera are treated as one camera's reports).
        settings: Gate and cannot-link parameters.
        floor_id: The floor; required when ``positions`` is empty, else checked against it.
        timestamp_s: Time of the step; default the latest of the positions' timestamps.
        coverage: Optional floor area each camera sees (``homography.coverage``), by camera id.
            A dot that a live camera covers but did not report is less likely to be real: its
            odds are multiplied by ``settings.miss_probability`` per such silent camera. Cameras
            with no entry in ``positions`` (not live this step) are not counted as silent.

    Returns:
        The fused positions, without those below ``settings.min_confidence``.

    Raises:
        ValueError: positions from several floors, or no floor id at all.
    """
    floors = {p.floor_id for p in positions}
    if floor_id is not None:
        floors.add(floor_id)
    if len(floors) != 1:
        raise ValueError(f"fuse needs positions of exactly one floor, got floors {sorted(floors) or 'none'}")
    (floor,) = floors
    frame_s = timestamp_s if timestamp_s is not None else max((p.timestamp_s for p in positions), default=float("nan"))
    if not math.isfinite(frame_s):
        raise ValueError("fuse needs a timestamp when no positions are given")
    xy, confidence, sigma, camera = _stack(positions)
    if len(xy) == 0:
        return FusedPositions(floor, frame_s, np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
    sigma = np.sqrt(sigma**2 + settings.body_sigma_m**2)
    label = cluster_reports(xy_m=xy, sigma_m=sigma, camera=camera, confidence=confidence, settings=settings)
    label = refine_clusters(
        label=label, xy_m=xy, sigma_m=sigma, camera=camera, confidence=confidence, settings=settings
    )
    k = int(label.max()) + 1
    total, sums, cluster_precision = _cluster_sums(label, k, xy, _report_weight(confidence, sigma), 1.0 / sigma**2)
    fused_xy = sums / total[:, None]
    fused_sigma = 1.0 / np.sqrt(cluster_precision)
    live = list(dict.fromkeys(p.camera_id for p in positions))  # the order of _stack's camera indices
    seen = np.zeros((k, len(live)), dtype=bool)
    seen[label, camera] = True
    n_cameras = seen.sum(axis=1).astype(np.int64)
    # Each report is independent evidence (naive Bayes in log-odds): someone is there unless
    # every report of them is a false alarm.
    clipped = np.clip(confidence, _CONFIDENCE_MARGIN, 1.0 - _CONFIDENCE_MARGIN)
    log_odds: np.ndarray = np.bincount(label, weights=np.log(clipped / (1.0 - clipped)), minlength=k)
    if coverage is not None:
        silent = np.zeros(k, dtype=np.int64)
        for index, camera_id in enumerate(live):
            area = coverage.get(camera_id)
            if area is None or area.is_empty:
                continue
            covers = shapely.contains_xy(area, fused_xy[:, 0], fused_xy[:, 1])
            silent += (covers & ~seen[:, index]).astype(np.int64)
        log_odds += silent * math.log(max(settings.miss_probability, 1e-12))
    fused_confidence = 1.0 / (1.0 + np.exp(-log_odds))
    keep = fused_confidence >= settings.min_confidence
    return FusedPositions(
        floor, float(frame_s), fused_xy[keep], fused_confidence[keep], fused_sigma[keep], n_cameras[keep]
    )
