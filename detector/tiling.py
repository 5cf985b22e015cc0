"""Scale-aware tiling: choose crops so that people reach the size a network sees best, then merge.

A high station camera shows people 25-45 px tall in a 1920x1080 frame; squeezed into a 416 px
network input they shrink to 5-10 px and vanish. Knowing the expected person height per image row
(:class:`detector.scene.SceneHints`), each band of rows gets square tiles just large enough that a
person there is ``target_person_px`` tall once the tile is resized to the network input. Tiles
overlap by a person's width and a person's height so that everybody is whole in at least one tile;
boxes cut by an inner tile edge are dropped and the rest merged by non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.boxes import intersections
from detector.scene import SceneHints


@dataclass(frozen=True)
class Tile:
    """A crop of the frame, ``x0 <= x < x1``, ``y0 <= y < y1`` in frame pixels.

    ``input_wh`` is the network input size the plan chose for the crop (a strip keeps its scale, not
    a fixed input side); None lets the network resize it its own way.
    """

    x0: int
    y0: int
    x1: int
    y1: int
    input_wh: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.y1 - self.y0


def whole_frame(image_wh: tuple[int, int]) -> list[Tile]:
    """One tile covering the whole frame."""
    return [Tile(0, 0, image_wh[0], image_wh[1])]


def plan_tiles(
    *,
    hints: SceneHints,
    image_wh: tuple[int, int],
    input_px: int,
    target_person_px: float,
    min_person_px: float | None = None,
    max_tiles: int = 64,
    strips: bool = False,
) -> list[Tile]:
    """Tiles whose resize to ``input_px`` rows makes an expected person about ``target_person_px`` tall.

    Rows whose expected people are already large enough in the whole frame are left to the whole-frame
    pass (the caller adds it); only rows with small people get tiles. Each band of rows gets square
    tiles overlapping sideways (for networks with a fixed input side), or with ``strips`` one strip
    over the band's floor columns at the band's scale (for fully convolutional networks: no
    sideways overlap, so fewer input pixels for the same people; the tile's ``input_wh`` says the size).

    Args:
        hints: Expected person heights per row and the floor mask.
        image_wh: Frame size ``(W, H)`` in pixels.
        input_px: Side of the network's square input, pixels.
        target_person_px: Person height the network detects best, in input pixels.
        min_person_px: Smallest person height, in input pixels, the network still finds reliably;
            rows whose people reach it in the whole-frame pass get no tiles (default 0.8 x target).
        max_tiles: Upper bound on the number of tiles; the plan coarsens (larger tiles) to meet it.
        strips: One strip per band instead of overlapping squares.

    Returns:
        Tiles in frame pixels, top to bottom, left to right; empty if the whole frame suffices.

    Raises:
        ValueError: The hints describe a different frame height.
    """
    width, height = image_wh
    if hints.height_rows != height:
        raise ValueError(f"hints describe {hints.height_rows} rows but the frame has {height}")
    factor = 1.0
    for _ in range(8):
        floor_px = 0.8 * target_person_px if min_person_px is None else min_person_px
        tiles = _plan(hints, width, height, input_px, target_person_px * factor, floor_px, strips)
        if len(tiles) <= max_tiles:
            return tiles
        factor *= 0.8  # accept smaller people in the input rather than too many tiles
    return tiles[:max_tiles]


def _plan(
    hints: SceneHints, width: int, height: int, input_px: int, target_px: float, min_px: float, strips: bool
) -> list[Tile]:
    heights = hints.person_height_px
    mask = hints.floor_mask
    whole_scale = input_px / max(width, height)
    rows = np.flatnonzero(np.isfinite(heights))
    if mask is not None:
        rows = rows[mask[rows].any(axis=1)]
    tiles: list[Tile] = []
    if rows.size == 0:
        return tiles
    y = int(rows[0])
    last = int(rows[-1])
    while y <= last:
        h = float(heights[y]) if np.isfinite(heights[y]) else float(np.nanmin(heights))
        if h * whole_scale >= min_px:
            break  # this row and everything below it is large enough for the whole-frame pass
        side = int(np.ceil(min(input_px * h / target_px, max(width, height))))
        side = max(side, int(np.ceil(2.5 * h)))  # room for a person and a band of feet below them
        y0 = max(0, int(y - 1.15 * h))
        if y0 + side > height and not strips:  # the last square: slide up rather than cut it short
            y0 = max(0, height - side)
        y1 = min(height, y0 + side)
        # Columns that hold floor on the feet rows of this band, widened by half a person.
        if mask is not None:
            cols = np.flatnonzero(mask[y:y1].any(axis=0))
            if cols.size == 0:
                y = y1
                continue
            x_lo, x_hi = max(0, int(cols[0] - 0.5 * h)), min(width, int(cols[-1] + 0.5 * h) + 1)
        else:
            x_lo, x_hi = 0, width
        if strips:
            # The band's scale (input_px for its side) over its whole width, in multiples of 32.
            scale = input_px / side
            input_wh = (
                max(32, round((x_hi - x_lo) * scale / 32.0) * 32),
                max(32, round((y1 - y0) * scale / 32.0) * 32),
            )
            tiles.append(Tile(x_lo, y0, x_hi, y1, input_wh=input_wh))
        else:
            bottom_h = heights[min(y1 - 1, height - 1)]
            overlap = int(np.ceil(0.8 * (bottom_h if np.isfinite(bottom_h) else h)))
            tiles.extend(Tile(x0, y0, x1, y1) for x0, x1 in _spans(x_lo, x_hi, side, overlap))
        if y1 >= height:
            break
        y = y1  # feet below this tile's bottom are whole in the next band, which starts a person higher
    return tiles


def _spans(lo: int, hi: int, side: int, overlap: int) -> list[tuple[int, int]]:
    """Cover ``[lo, hi)`` with windows of ``side`` overlapping by at least ``overlap``, spread evenly."""
    length = hi - lo
    if length <= side:
        return [(lo, hi)]
    step = max(1, side - overlap)
    count = int(np.ceil((length - side) / step)) + 1
    starts = np.linspace(lo, hi - side, count).round().astype(int)
    return [(int(s), int(s) + side) for s in starts]


def drop_cut_boxes(
    xyxy_px: np.ndarray, tile: Tile, image_wh: tuple[int, int], margin_px: float = 2.0, *, bottom: bool = True
) -> np.ndarray:
    """Mask ``(n,)`` of boxes (frame pixels) that no inner tile edge cuts.

    The left, right and bottom edges are safe to cut at: the overlap guarantees that a person cut
    there is whole in the neighbouring tile. The top edge is kept: a person taller than expected may
    not fit any tile, and a cut box still has the right foot point. ``bottom=False`` keeps boxes on
    the bottom edge too (see :func:`cut_at_bottom`).
    """
    width = image_wh[0]
    keep = np.ones(len(xyxy_px), dtype=bool)
    if tile.x0 > 0:
        keep &= xyxy_px[:, 0] > tile.x0 + margin_px
    if tile.x1 < width:
        keep &= xyxy_px[:, 2] < tile.x1 - margin_px
    if bottom:
        keep &= ~cut_at_bottom(xyxy_px, tile, image_wh, margin_px)
    return keep


def cut_at_bottom(xyxy_px: np.ndarray, tile: Tile, image_wh: tuple[int, int], margin_px: float = 2.0) -> np.ndarray:
    """Mask ``(n,)`` of boxes (frame pixels) whose bottom lies on the tile's bottom edge inside the frame."""
    if tile.y1 >= image_wh[1]:
        return np.zeros(len(xyxy_px), dtype=bool)
    return xyxy_px[:, 3] >= tile.y1 - margin_px


def cut_at_top(xyxy_px: np.ndarray, tile: Tile, margin: float = 0.1) -> np.ndarray:
    """Mask ``(n,)`` of boxes (frame pixels) whose top lies on the tile's top edge inside the frame.

    :func:`drop_cut_boxes` keeps them (a taller person than expected may be whole in no tile), but
    such a box is often the legs of a person whose head is above the tile and who is whole in the
    band above; the merge ranks it below uncut boxes. A box counts as cut when its top is within
    ``margin`` of its own height (at least 2 px) of the edge: the network does not place the top of
    a cut person exactly on the edge.
    """
    if tile.y0 <= 0:
        return np.zeros(len(xyxy_px), dtype=bool)
    heights = xyxy_px[:, 3] - xyxy_px[:, 1]
    return xyxy_px[:, 1] <= tile.y0 + np.maximum(2.0, margin * heights)


def nms(
    xyxy_px: np.ndarray, scores: np.ndarray, *, iou_threshold: float, containment_threshold: float = 0.85
) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first.

    Besides IoU, a box mostly inside a better box (intersection over its own area above
    ``containment_threshold``) is suppressed: the same person seen whole in one tile and as a
    fragment in another.
    """
    order = np.argsort(-scores, kind="stable")
    areas = np.maximum(xyxy_px[:, 2] - xyxy_px[:, 0], 0) * np.maximum(xyxy_px[:, 3] - xyxy_px[:, 1], 0)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx0 = np.maximum(xyxy_px[i, 0], xyxy_px[rest, 0])
        yy0 = np.maximum(xyxy_px[i, 1], xyxy_px[rest, 1])
        xx1 = np.minimum(xyxy_px[i, 2], xyxy_px[rest, 2])
        yy1 = np.minimum(xyxy_px[i, 3], xyxy_px[rest, 3])
        inter = np.maximum(xx1 - xx0, 0) * np.maximum(yy1 - yy0, 0)
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        contained = inter / np.maximum(areas[rest], 1e-9)
        order = rest[(iou <= iou_threshold) & (contained <= containment_threshold)]
    return np.asarray(keep, dtype=np.int64)


def plausible(
    xyxy_px: np.ndarray, hints: SceneHints, *, min_ratio: float = 0.45, max_ratio: float = 2.0, mask_margin_px: int = 8
) -> np.ndarray:
    """Mask ``(n,)`` of boxes whose foot is on the floor and whose height fits the expected height there.

    Rows without an expected height (NaN) accept any size; a box whose foot point leaves the frame
    is judged at the nearest row. A box on the top or bottom edge of the frame shows only part of a
    person, so it may be shorter than ``min_ratio`` allows (never taller than ``max_ratio``).
    """
    foot_x = (xyxy_px[:, 0] + xyxy_px[:, 2]) / 2.0
    foot_y = xyxy_px[:, 3]
    expected = hints.expected_height_px(foot_y)
    ratio = (xyxy_px[:, 3] - xyxy_px[:, 1]) / np.where(np.isfinite(expected), expected, 1.0)
    frame_edge_px = 2.0
    cut_by_frame = (xyxy_px[:, 1] <= frame_edge_px) | (xyxy_px[:, 3] >= hints.height_rows - frame_edge_px)
    keep = ~np.isfinite(expected) | (((ratio >= min_ratio) | cut_by_frame) & (ratio <= max_ratio))
    if hints.floor_mask is not None:
        mask = hints.floor_mask
        rows, cols = mask.shape
        # A foot point may sit a little outside the drawn floor (box padding, polygon drawn tight).
        ys = np.clip(np.round(foot_y).astype(int), 0, rows - 1)
        xs = np.clip(np.round(foot_x).astype(int), 0, cols - 1)
        near = np.zeros(len(xyxy_px), dtype=bool)
        for dy in (-mask_margin_px, 0, mask_margin_px):
            for dx in (-mask_margin_px, 0, mask_margin_px):
                near |= mask[np.clip(ys + dy, 0, rows - 1), np.clip(xs + dx, 0, cols - 1)]
        keep &= near
    return keep


def fragments(xyxy_px: np.ndarray, hints: SceneHints, *, short_ratio: float = 0.7, inside: float = 0.5) -> np.ndarray:
    """Mask ``(n,)`` of boxes that look like part of another person: short, and mostly inside a box of full height.

    A box shorter than ``short_ratio`` of the expected height at its foot row, with at least
    ``inside`` of its area inside a box that is not short, is that person's legs or upper body (its
    foot point would land metres from theirs). A short box on its own (a child, someone half hidden
    by a counter) is not a fragment. Rows without an expected height make no box short.
    """
    if len(xyxy_px) == 0:
        return np.zeros(0, dtype=bool)
    expected = hints.expected_height_px(xyxy_px[:, 3])
    heights = xyxy_px[:, 3] - xyxy_px[:, 1]
    short = np.isfinite(expected) & (heights < short_ratio * np.where(np.isfinite(expected), expected, 0.0))
    full = ~short
    if not short.any() or not full.any():
        return np.zeros(len(xyxy_px), dtype=bool)
    others = xyxy_px[full]
    inter = intersections(xyxy_px, others)
    area = np.maximum((xyxy_px[:, 2] - xyxy_px[:, 0]) * heights, 1e-9)
    return short & ((inter / area[:, None]).max(axis=1) >= inside)
