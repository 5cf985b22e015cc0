"""Score people placed on a floor against ground truth: MODA, MODP, precision, recall, errors.

The ground-plane detection metrics of multi-camera benchmarks (CLEAR MOT's MODA/MODP as used by
WILDTRACK): per frame, predictions and true positions are matched one-to-one, at most
``max_distance_m`` apart, minimising the total distance. Pure numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

DEFAULT_MATCH_DISTANCE_M = 0.5


def linear_sum_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost one-to-one assignment of rows to columns (Hungarian method, O(n^3)).

    Args:
        cost: Finite costs ``(r, c)``.

    Returns:
        Row indices and column indices ``(min(r, c),)`` of the assigned pairs, rows ascending.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must have shape (r, c), got {cost.shape}")
    if not np.all(np.isfinite(cost)):
        raise ValueError("cost must be finite")
    transposed = cost.shape[0] > cost.shape[1]
    matrix = cost.T if transposed else cost
    rows, cols = matrix.shape
    if rows == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Shortest augmenting paths with potentials (the e-maxx formulation), 1-based with a dummy 0.
    u = np.zeros(rows + 1)
    v = np.zeros(cols + 1)
    match_of_col = np.zeros(cols + 1, dtype=np.int64)
    for row in range(1, rows + 1):
        match_of_col[0] = row
        col0 = 0
        min_to = np.full(cols + 1, np.inf)
        way = np.zeros(cols + 1, dtype=np.int64)
        used = np.zeros(cols + 1, dtype=bool)
        while True:
            used[col0] = True
            row0 = match_of_col[col0]
            free = ~used[1:]
            reduced = matrix[row0 - 1] - u[row0] - v[1:]
            better = free & (reduced < min_to[1:])
            min_to[1:][better] = reduced[better]
            way[1:][better] = col0
            candidates = np.where(free, min_to[1:], np.inf)
            col1 = int(np.argmin(candidates)) + 1
            delta = candidates[col1 - 1]
            u[match_of_col[used]] += delta
            v[used] -= delta
            min_to[1:][free] -= delta
            col0 = col1
            if match_of_col[col0] == 0:
                break
        while col0:
            col1 = way[col0]
            match_of_col[col0] = match_of_col[col1]
            col0 = col1
    assigned = np.flatnonzero(match_of_col[1:]) + 1
    row_index = match_of_col[assigned] - 1
    col_index = assigned - 1
    if transposed:
        row_index, col_index = col_index, row_index
    order = np.argsort(row_index)
    return row_index[order].astype(np.int64), col_index[order].astype(np.int64)


def match_points(
    *, predicted_m: np.ndarray, truth_m: np.ndarray, max_distance_m: float = DEFAULT_MATCH_DISTANCE_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matches between predicted and true positions at most ``max_distance_m`` apart.

    Args:
        predicted_m: Predicted positions ``(p, 2)``, metres.
        truth_m: True positions ``(t, 2)``, metres.
        max_distance_m: Matching radius, metres.

    Returns:
        Predicted indices ``(m,)``, true indices ``(m,)`` and their distances ``(m,)`` in metres;
        the matching maximises the number of matches, then minimises their total distance.
    """
    predicted = np.asarray(predicted_m, dtype=np.float64).reshape(-1, 2)
    truth = np.asarray(truth_m, dtype=np.float64).reshape(-1, 2)
    empty = np.zeros(0, dtype=np.int64)
    if len(predicted) == 0 or len(truth) == 0:
        return empty, empty, np.zeros(0)
    distance = np.linalg.norm(predicted[:, None, :] - truth[None, :, :], axis=2)
    # Pairs beyond the radius cost more than any set of in-radius pairs could, so the assignment
    # first maximises the number of real matches.
    forbidden = 1.0 + max_distance_m * (min(len(predicted), len(truth)) + 1)
    rows, cols = linear_sum_assignment(np.where(distance <= max_distance_m, distance, forbidden))
    keep = distance[rows, cols] <= max_distance_m
    return rows[keep], cols[keep], distance[rows[keep], cols[keep]]


@dataclass(frozen=True)
class FloorScores:
    """Detection scores accumulated over frames.

    Attributes:
        frames: Frames scored.
        true_positives: Matched predictions.
        false_positives: Unmatched predictions.
        false_negatives: Unmatched true people.
        truth_count: True people over all frames.
        count_abs_error_sum: Sum over frames of ``|predicted count - true count|``.
        match_distances_m: Distances of all matches, metres.
        max_distance_m: The matching radius used.
    """

    frames: int
    true_positives: int
    false_positives: int
    false_negatives: int
    truth_count: int
    count_abs_error_sum: float
    match_distances_m: np.ndarray
    max_distance_m: float

    @property
    def moda(self) -> float:
        """Multiple object detection accuracy: ``1 - (FN + FP) / truth``."""
        return 1.0 - (self.false_negatives + self.false_positives) / self.truth_count if self.truth_count else math.nan

    @property
    def modp(self) -> float:
        """Multiple object detection precision: mean of ``1 - d / radius`` over matches."""
        if not self.true_positives:
            return math.nan
        return float(np.sum(1.0 - self.match_distances_m / self.max_distance_m) / self.true_positives)

    @property
    def precision(self) -> float:
        """Matched predictions over predictions."""
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else math.nan

    @property
    def recall(self) -> float:
        """Matched true people over true people."""
        return self.true_positives / self.truth_count if self.truth_count else math.nan

    @property
    def count_mae(self) -> float:
        """Mean absolute error of the per-frame head count."""
        return self.count_abs_error_sum / self.frames if self.frames else math.nan

    @property
    def position_error_m_median(self) -> float:
        """Median distance of matched predictions from the truth, metres."""
        return float(np.median(self.match_distances_m)) if len(self.match_distances_m) else math.nan

    def as_dict(self) -> dict[str, float | int]:
        """Plain numbers for a JSON report."""
        return {
            "moda": self.moda,
            "modp": self.modp,
            "precision": self.precision,
            "recall": self.recall,
            "count_mae": self.count_mae,
            "position_error_m_median": self.position_error_m_median,
            "position_error_m_p90": float(np.percentile(self.match_distances_m, 90))
            if len(self.match_distances_m)
            else math.nan,
            "frames": self.frames,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "truth_count": self.truth_count,
            "match_distance_m": self.max_distance_m,
        }


def score_frames(
    frames: Iterable[tuple[np.ndarray, np.ndarray]], *, max_distance_m: float = DEFAULT_MATCH_DISTANCE_M
) -> FloorScores:
    """Score ``(predicted (p, 2), truth (t, 2))`` position pairs, one per frame, in metres."""
    count = tp = fp = fn = truth_total = 0
    count_error = 0.0
    distances = []
    for predicted, truth in frames:
        predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 2)
        truth = np.asarray(truth, dtype=np.float64).reshape(-1, 2)
        _, _, matched = match_points(predicted_m=predicted, truth_m=truth, max_distance_m=max_distance_m)
        count += 1
        tp += len(matched)
        fp += len(predicted) - len(matched)
        fn += len(truth) - len(matched)
        truth_total += len(truth)
        count_error += abs(len(predicted) - len(truth))
        distances.append(matched)
    return FloorScores(
        frames=count,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        truth_count=truth_total,
        count_abs_error_sum=count_error,
        match_distances_m=np.concatenate(distances) if distances else np.zeros(0),
        max_distance_m=max_distance_m,
    )
