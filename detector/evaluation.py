"""Scoring detections against ground truth: boxes (MOTChallenge text) or one point per person.

Pure functions over arrays, so the ``crowdmap eval detect`` command and the benchmarks report the
same numbers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detector.boxes import iou_matrix

MOT_FORMAT = "MOTChallenge text: one box per line, 'frame,id,left,top,width,height[,...]' in pixels"


def load_mot_boxes(path: Path) -> dict[int, np.ndarray]:
    """MOTChallenge ``frame,id,left,top,width,height,...`` -> frame number -> boxes ``(n, 4)`` xyxy px.

    Raises:
        ValueError: A line has fewer than 6 fields or a field that is not a number (naming the file,
            the line and the expected format); the file is not text.
    """
    frames: dict[int, list[list[float]]] = {}
    with open(path, encoding="utf-8") as handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text file; expected {MOT_FORMAT}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) < 6:
            raise ValueError(
                f"{path}:{number}: expected at least 6 comma-separated fields, got {len(parts)}; expected {MOT_FORMAT}"
            )
        try:
            frame = int(float(parts[0]))
            left, top, width, height = (float(v) for v in parts[2:6])
        except ValueError:
            raise ValueError(f"{path}:{number}: {line.strip()[:60]!r} is not numbers; expected {MOT_FORMAT}") from None
        frames.setdefault(frame, []).append([left, top, left + width, top + height])
    return {k: np.asarray(v, dtype=np.float64).reshape(-1, 4) for k, v in frames.items()}


def load_points_csv(path: Path) -> np.ndarray:
    """A CSV with columns ``x_px,y_px`` -> points ``(n, 2)``.

    Raises:
        ValueError: The columns are missing, or a row's values are not numbers (naming the file and line).
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        try:
            if reader.fieldnames is None or not {"x_px", "y_px"} <= set(reader.fieldnames):
                raise ValueError(f"{path} must have columns x_px,y_px, got {reader.fieldnames}")
            rows = []
            for row in reader:
                try:
                    rows.append((float(row["x_px"]), float(row["y_px"])))
                except (TypeError, ValueError):
                    raise ValueError(
                        f"{path}:{reader.line_num}: expected numbers in columns x_px,y_px, got {row}"
                    ) from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text file; expected a CSV with columns x_px,y_px") from None
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def match_boxes(pred_xyxy: np.ndarray, gt_xyxy: np.ndarray, *, iou_threshold: float = 0.5) -> np.ndarray:
    """One-to-one matches ``(k, 2)`` of (prediction index, ground-truth index) with IoU >= threshold.

    Greedy on IoU, highest first: each box takes its best free partner, as the MOT and PASCAL
    evaluations do.
    """
    iou = iou_matrix(pred_xyxy, gt_xyxy)
    pairs = []
    if iou.size:
        candidates = np.argwhere(iou >= iou_threshold)
        order = np.argsort(-iou[candidates[:, 0], candidates[:, 1]], kind="stable")
        used_p, used_g = set(), set()
        for p, g in candidates[order]:
            if p not in used_p and g not in used_g:
                used_p.add(int(p))
                used_g.add(int(g))
                pairs.append((int(p), int(g)))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def match_points(boxes_xyxy: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """Maximum one-to-one matching ``(k, 2)`` of (box index, point index) with the point inside the box.

    A box matches at most one point and a point at most one box; augmenting paths (Kuhn's algorithm)
    give the largest such matching, so a big box covering two people cannot take both.
    """
    inside = (
        (points_px[None, :, 0] >= boxes_xyxy[:, None, 0])
        & (points_px[None, :, 0] <= boxes_xyxy[:, None, 2])
        & (points_px[None, :, 1] >= boxes_xyxy[:, None, 1])
        & (points_px[None, :, 1] <= boxes_xyxy[:, None, 3])
    )
    point_owner = -np.ones(len(points_px), dtype=np.int64)

    def augment(box: int, seen: np.ndarray) -> bool:
        for point in np.flatnonzero(inside[box]):
            if seen[point]:
                continue
            seen[point] = True
            if point_owner[point] < 0 or augment(int(point_owner[point]), seen):
                point_owner[point] = box
                return True
        return False

    for box in range(len(boxes_xyxy)):
        augment(box, np.zeros(len(points_px), dtype=bool))
    matched = np.flatnonzero(point_owner >= 0)
    return np.column_stack((point_owner[matched], matched)).astype(np.int64).reshape(-1, 2)


def foot_points(xyxy: np.ndarray) -> np.ndarray:
    """Bottom centres ``(n, 2)`` of boxes ``(n, 4)``."""
    return np.column_stack(((xyxy[:, 0] + xyxy[:, 2]) / 2.0, xyxy[:, 3]))


@dataclass
class BoxScore:
    """Accumulates matches over frames; :meth:`summary` gives the figures ``crowdmap eval`` prints."""

    iou_threshold: float = 0.5
    true_positives: int = 0
    predictions: int = 0
    ground_truth: int = 0
    count_errors: list[int] = field(default_factory=list)
    foot_errors_px: list[float] = field(default_factory=list)
    foot_errors_m: list[float] = field(default_factory=list)

    def add(
        self,
        pred_xyxy: np.ndarray,
        gt_xyxy: np.ndarray,
        *,
        pred_feet_m: np.ndarray | None = None,
        gt_feet_m: np.ndarray | None = None,
    ) -> np.ndarray:
        """Score one frame; optional foot points in metres ``(n, 2)``/``(m, 2)`` (NaN = not on the floor).

        Returns:
            The matches ``(k, 2)`` of this frame.
        """
        pairs = match_boxes(pred_xyxy, gt_xyxy, iou_threshold=self.iou_threshold)
        self.true_positives += len(pairs)
        self.predictions += len(pred_xyxy)
        self.ground_truth += len(gt_xyxy)
        self.count_errors.append(abs(len(pred_xyxy) - len(gt_xyxy)))
        if len(pairs):
            delta = foot_points(pred_xyxy[pairs[:, 0]]) - foot_points(gt_xyxy[pairs[:, 1]])
            self.foot_errors_px.extend(np.hypot(delta[:, 0], delta[:, 1]).tolist())
            if pred_feet_m is not None and gt_feet_m is not None:
                delta_m = pred_feet_m[pairs[:, 0]] - gt_feet_m[pairs[:, 1]]
                dist = np.hypot(delta_m[:, 0], delta_m[:, 1])
                self.foot_errors_m.extend(dist[np.isfinite(dist)].tolist())
        return pairs

    def summary(self) -> dict[str, float | int | None]:
        """Precision, recall, F1, count MAE, foot error medians (px, m) and totals."""
        precision = self.true_positives / self.predictions if self.predictions else 0.0
        recall = self.true_positives / self.ground_truth if self.ground_truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "count_mae": float(np.mean(self.count_errors)) if self.count_errors else 0.0,
            "foot_error_px_median": float(np.median(self.foot_errors_px)) if self.foot_errors_px else None,
            "foot_error_m_median": float(np.median(self.foot_errors_m)) if self.foot_errors_m else None,
            "frames": len(self.count_errors),
            "true_positives": self.true_positives,
            "detections": self.predictions,
            "ground_truth": self.ground_truth,
        }


def point_score(boxes_xyxy: np.ndarray, points_px: np.ndarray) -> dict[str, float | int]:
    """Single-image score against one point per person: recall over points, precision over boxes."""
    pairs = match_points(boxes_xyxy, points_px)
    precision = len(pairs) / len(boxes_xyxy) if len(boxes_xyxy) else 0.0
    recall = len(pairs) / len(points_px) if len(points_px) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "matched": len(pairs),
        "detections": len(boxes_xyxy),
        "points": len(points_px),
        "count_error": len(boxes_xyxy) - len(points_px),
    }
