"""Two people one behind the other in one box: split it where the network itself saw both.

Seen from above, a person walking behind another stands a little higher in the picture, and the
network often draws one box over both: as wide as one person, but 1.4-2 times the height expected at
its foot row. Non-maximum suppression then removes the network's own boxes of each of the two
(they lie inside the tall one). Height alone does not say that two people are there (the expected
height is only as good as the calibration), so a tall box is split only when the network's raw
output holds both halves: one person-sized candidate at the top of the tall box and one at its
bottom, clearly apart. Without that evidence the box stays as it is.

All heights are relative to the expected height at a box's foot row
(:meth:`detector.scene.SceneHints.expected_height_px`); rows without one split nothing.
"""

from __future__ import annotations

import numpy as np

from detector.boxes import areas, intersections, iou_matrix
from detector.scene import SceneHints

# Taller than any single person: the PETS ground truth's boxes (2396 people wholly in view, frames
# 1-400) are 0.93-1.19 x the height its calibration expects (0.5th-99.9th percentile); a box 1.35 x
# is a person standing that much taller, or two.
TALL_RATIO = 1.35
# The two halves must stand apart by at least this share of the expected height (otherwise they are
# the same person drawn twice) and reach the tall box's top and bottom within END_TOLERANCE.
MIN_OFFSET = 0.25
END_TOLERANCE = 0.15


def split_stacked(
    xyxy_px: np.ndarray,
    *,
    candidates_xyxy_px: np.ndarray,
    candidates_scores: np.ndarray,
    hints: SceneHints,
    tall_ratio: float = TALL_RATIO,
    part_min_ratio: float = 0.7,
    min_offset: float = MIN_OFFSET,
    end_tolerance: float = END_TOLERANCE,
    inside: float = 0.85,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes with each supported stacked pair split in two, and each output box's source index.

    Args:
        xyxy_px: Kept boxes ``(n, 4)`` in frame pixels (after non-maximum suppression).
        candidates_xyxy_px: The network's raw candidates ``(m, 4)`` (every tile, boxes whole in
            their tile, scores above the evidence floor), frame pixels.
        candidates_scores: Their scores ``(m,)``: the best-scoring half of each kind is used.
        hints: Expected person heights per foot row.
        tall_ratio: A box at least this multiple of its expected height may hold two people.
        part_min_ratio: A half must be at least this multiple of the expected height at its own
            foot row (shorter: a fragment, see :func:`detector.tiling.fragments`) and shorter than
            ``tall_ratio`` times it (not itself a pair).
        min_offset: The lower half's top lies at least this many expected heights below the tall
            box's top, and the upper half's bottom as far above its bottom.
        end_tolerance: The upper half's top and the lower half's bottom lie within this many
            expected heights of the tall box's top and bottom.
        inside: Share of a half's area that must lie inside the tall box; also, a half that overlaps
            another kept box (IoU above 0.5 or this share inside it) is that box's person and is left out.

    Returns:
        ``(boxes (k, 4), source (k,))``: a box not split is returned as it is; a split one is
        replaced, in its place, by its upper and lower half. ``source[i]`` is the index in
        ``xyxy_px`` each output box comes from (to carry scores and flags along). The upper half's
        box is the network's, extended down to the expected height where the person in front hides
        its legs (its foot point is then where that person's feet would be).
    """
    n = len(xyxy_px)
    if n == 0 or len(candidates_xyxy_px) == 0:
        return xyxy_px, np.arange(n)
    expected = hints.expected_height_px(xyxy_px[:, 3])
    heights = xyxy_px[:, 3] - xyxy_px[:, 1]
    tall = np.isfinite(expected) & (heights >= tall_ratio * np.where(np.isfinite(expected), expected, np.inf))
    if not tall.any():
        return xyxy_px, np.arange(n)
    cand = np.asarray(candidates_xyxy_px, dtype=np.float64)
    cand_h = cand[:, 3] - cand[:, 1]
    cand_e = hints.expected_height_px(cand[:, 3])
    person_sized = np.isfinite(cand_e) & (cand_h >= part_min_ratio * cand_e) & (cand_h < tall_ratio * cand_e)
    cand_area = np.maximum((cand[:, 2] - cand[:, 0]) * cand_h, 1e-9)
    # Expected height of a person whose head is where a candidate's top is (feet about one candidate
    # height lower): what the upper half is completed to.
    e_upper = hints.expected_height_px(cand[:, 1] + np.where(np.isfinite(cand_e), cand_e, 0.0))
    boxes: list[np.ndarray] = []
    source: list[int] = []
    for i in range(n):
        if not tall[i]:
            boxes.append(xyxy_px[i])
            source.append(i)
            continue
        box, e = xyxy_px[i], float(expected[i])
        within = person_sized & (intersections(cand, box)[:, 0] / cand_area >= inside)
        upper = within & (np.abs(cand[:, 1] - box[1]) <= end_tolerance * e) & (cand[:, 3] <= box[3] - min_offset * e)
        lower = within & (np.abs(cand[:, 3] - box[3]) <= end_tolerance * e) & (cand[:, 1] >= box[1] + min_offset * e)
        if not upper.any() or not lower.any():
            boxes.append(box)
            source.append(i)
            continue
        best_upper = int(np.flatnonzero(upper)[np.argmax(candidates_scores[upper])])
        best_lower = int(np.flatnonzero(lower)[np.argmax(candidates_scores[lower])])
        if cand[best_lower, 3] - cand[best_upper, 3] < min_offset * e:
            boxes.append(box)  # the "two" halves end on the same row: one person drawn twice
            source.append(i)
            continue
        # The person behind is hidden from the legs down by the one in front: their box ends where
        # they disappear, so it is completed to the expected height (never into the lower half's feet).
        upper_box = cand[best_upper].copy()
        upper_box[3] = min(np.fmax(upper_box[3], upper_box[1] + e_upper[best_upper]), box[3] - min_offset * e)
        others = np.delete(xyxy_px, i, axis=0)
        halves = [b for b in (upper_box, cand[best_lower]) if not _duplicates(b, others, inside)]
        if not halves:
            halves = [box]  # both people are boxes of their own already: leave it to the caller's rules
        boxes.extend(halves)
        source.extend([i] * len(halves))
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(source, dtype=np.int64)


def _duplicates(box: np.ndarray, others: np.ndarray, inside: float) -> bool:
    """Whether ``box`` is already one of ``others`` (IoU above 0.5, or ``inside`` of it within one)."""
    if len(others) == 0:
        return False
    inter = intersections(box, others)[0]
    area = max(float(areas(box)[0]), 1e-9)
    return bool(((iou_matrix(box, others)[0] > 0.5) | (inter / area >= inside)).any())
