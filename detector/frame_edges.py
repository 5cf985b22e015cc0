"""People cut by the image's left or right side: where their body is, and whether their feet are in view.

A person walking into the picture at the left side shows only the part of their body inside the
frame, so the network's box ends at the frame's edge and its bottom centre (the foot point every
later stage uses) lies on the visible part, up to half a body width from where the person stands.
The calibration says how tall a standing person with feet on that row looks, hence how wide their
body is: :data:`BODY_ASPECT` x the expected height. The box's inner edge (the one inside the frame)
is an edge of the body, so the body spans one expected width from it, and its centre, the foot
point, lies half a width from it:

- a foot point inside the frame: the person stands in view; the box is completed to the whole body
  (its outer edge moves beyond the frame, so ``x0 < 0`` or ``x1 > W``) and the foot point with it;
- a foot point beyond the frame: less than half a body is in view and the feet are not; such a
  person is not on the floor this camera sees (annotated ground truths leave them out too), so the
  box goes.

``min_visible_share`` generalises the test: the person stays when at least that share of the
expected body width lies inside the frame; the default, :data:`MIN_VISIBLE_SHARE` = 0.5, is exactly
"the foot point is in the frame". A larger share publishes people only once most of them is in view
(what PETS2009's annotators did: docs/BENCHMARKS.md, "What the public sees", lists the figures).

A box at least as wide as the expected body is left alone (a whole person touching the edge), as
is a box touching both sides (not one person) and any box on a row without an expected height.
Pure numpy; no state.
"""

from __future__ import annotations

import numpy as np

# Width / height of a standing pedestrian's box: the fixed aspect the Caltech Pedestrian benchmark
# standardises its boxes to (Dollar et al., "Pedestrian Detection: An Evaluation of the State of the
# Art", PAMI 2012). Checked, not fitted, on PETS2009 View_001: NanoDet's boxes of people wholly in
# view are a median 0.40 x the calibration's expected height wide (p10 0.33, p90 0.49).
BODY_ASPECT = 0.41
# A box within this many pixels of the image side is cut by it (the network's boxes of a person
# leaving the picture end a pixel or two short of the border).
SIDE_MARGIN_PX = 2.0
# Share of the expected body width that must lie inside the frame for a side-cut person to stay:
# one half puts their foot point (the body's centre) in the frame.
MIN_VISIBLE_SHARE = 0.5


def side_cut(
    xyxy_px: np.ndarray, image_width_px: int, margin_px: float = SIDE_MARGIN_PX
) -> tuple[np.ndarray, np.ndarray]:
    """Masks ``(n,)`` of boxes cut by the left side only and by the right side only.

    Args:
        xyxy_px: Boxes ``(n, 4)`` in frame pixels.
        image_width_px: Frame width ``W``.
        margin_px: A box edge within this of a side touches it.
    """
    boxes = np.asarray(xyxy_px, dtype=np.float64).reshape(-1, 4)
    left = boxes[:, 0] <= margin_px
    right = boxes[:, 2] >= image_width_px - margin_px
    return left & ~right, right & ~left


def complete_side_cuts(
    xyxy_px: np.ndarray,
    expected_height_px: np.ndarray,
    *,
    image_width_px: int,
    aspect: float = BODY_ASPECT,
    margin_px: float = SIDE_MARGIN_PX,
    min_visible_share: float = MIN_VISIBLE_SHARE,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes cut by a side completed to the expected body width, and which people have their feet in view.

    Args:
        xyxy_px: Boxes ``(n, 4)`` in frame pixels.
        expected_height_px: ``(n,)`` expected height of a standing person at each box's foot row
            (NaN: unknown, the box is left alone).
        image_width_px: Frame width ``W``.
        aspect: Body width / height.
        margin_px: A box edge within this of a side touches it.
        min_visible_share: Share of the body width that must lie inside the frame (0.5: the foot
            point is in the frame).

    Returns:
        ``(boxes (n, 4), keep (n,))``: every box, the side-cut ones reaching beyond the frame to the
        body's estimated outer edge; ``keep`` is False where less than ``min_visible_share`` of that
        body lies inside the frame (by default: where its centre, the foot point, lies outside).

    Raises:
        ValueError: shapes that do not match, a width or aspect that is not positive, a share
            outside (0, 1].
    """
    boxes = np.array(xyxy_px, dtype=np.float64).reshape(-1, 4)
    expected = np.asarray(expected_height_px, dtype=np.float64).reshape(-1)
    if len(expected) != len(boxes):
        raise ValueError(f"expected_height_px must have shape ({len(boxes)},), got shape {expected.shape}")
    if image_width_px <= 0 or not aspect > 0:
        raise ValueError(f"image_width_px and aspect must be positive, got {image_width_px} and {aspect}")
    if not 0.0 < min_visible_share <= 1.0:
        raise ValueError(f"min_visible_share must lie in (0, 1], got {min_visible_share}")
    keep = np.ones(len(boxes), dtype=bool)
    if len(boxes) == 0:
        return boxes, keep
    body_px = aspect * expected
    left, right = side_cut(boxes, image_width_px, margin_px)
    # Cut and narrower than a body: the visible part is a slice of the person; NaN widths compare False.
    narrow = boxes[:, 2] - boxes[:, 0] < body_px
    left &= narrow
    right &= narrow
    # The inner edge is the body's: from there to the frame's side is the part of the body in view.
    in_view_px = np.where(left, boxes[:, 2], image_width_px - boxes[:, 0])
    cut = left | right
    keep[cut] = in_view_px[cut] >= min_visible_share * body_px[cut]
    boxes[left, 0] = boxes[left, 2] - body_px[left]
    boxes[right, 2] = boxes[right, 0] + body_px[right]
    return boxes, keep
