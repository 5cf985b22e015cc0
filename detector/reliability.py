"""Where a network backend finds people reliably: person heights in pixels, measured, without loading it.

An operator needs to know whether the people in a camera's view are a size the detector finds, and
the tile planner needs the same numbers. They come from ``bench/detector_scale.py``: the same people
(PETS2009 View_001 boxes and the Grand Central points) shown to the network at many scales, recall
counted per person height in the network input (docs/DETECTOR.md, "Reliable person heights").

Pure and torch-free: ``crowdmap layout check`` and the calibration tool call it without a network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.scene import SceneHints
from detector.tiling import Tile, plan_tiles, whole_frame


@dataclass(frozen=True)
class ReliableHeights:
    """A backend's measured working range, person heights in network-input pixels.

    Attributes:
        input_px: Longer side of the network input (whole frame and tiles alike).
        min_px: Smallest person height with recall within reach of the best (see the module docstring).
        max_px: Largest such height.
        best_px: Height where recall peaks; tiles are sized to show the expected person at it.
        source: Where the numbers come from.
        strips: The detector runs this network on one strip per band of rows (it takes any input
            size) rather than on overlapping squares.
    """

    input_px: int
    min_px: float
    max_px: float
    best_px: float
    source: str
    strips: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.min_px <= self.best_px <= self.max_px:
            raise ValueError(f"need 0 < min_px <= best_px <= max_px, got {self.min_px}, {self.best_px}, {self.max_px}")


# Measured with ``bench/detector_scale.py --step 20`` (docs/BENCHMARKS.md, "Reliable person heights").
# Per person height in the input, at the tile threshold 0.3: from 40 to 112 px PETS recall is >= 0.94
# and precision >= 0.85, Grand Central recall >= 0.78 (bins of 27-143 people). Below 40 px precision
# collapses (0.78 at 36-40 px, 0.5 at 24-28 px) before recall does; above 112 px Grand Central recall
# falls to 0.74 and below, PETS recall to 0.66 at 128-160 px. The tile target is the middle of the
# range on a log scale (sqrt(40 x 112) = 67, rounded to the 64 px it was before).
RELIABLE_HEIGHTS: dict[str, ReliableHeights] = {
    "nanodet": ReliableHeights(
        input_px=416,
        min_px=40.0,
        max_px=112.0,
        best_px=64.0,
        source="bench/detector_scale.py --step 20",
        strips=True,
    ),
}


def reliable_heights(backend: str) -> ReliableHeights:
    """The measured working range of ``backend``.

    Raises:
        ValueError: No measurement exists for that backend.
    """
    if backend not in RELIABLE_HEIGHTS:
        raise ValueError(
            f"no reliable person-height measurement for backend {backend!r}; measured: {sorted(RELIABLE_HEIGHTS)} "
            "(bench/detector_scale.py)"
        )
    return RELIABLE_HEIGHTS[backend]


def reliable_person_height_px(
    backend: str, *, image_wh: tuple[int, int] | None = None, input_px: int | None = None
) -> tuple[float, float]:
    """Person heights ``(min_px, max_px)`` that ``backend`` finds reliably.

    Args:
        backend: A measured backend name (see :data:`RELIABLE_HEIGHTS`).
        image_wh: Frame size ``(W, H)``: heights are then in that frame's pixels for the whole-frame
            pass (the frame resized so its longer side is ``input_px``); None: in network-input pixels.
        input_px: The backend's input size if not its default (the ``input_px`` option).

    Returns:
        ``(min_px, max_px)``. With scene hints the detector adds tiles that show smaller people
        larger: see :func:`reliable_rows` for what a camera's tile plan covers.

    Raises:
        ValueError: Unknown backend, or a non-positive size.
    """
    heights = reliable_heights(backend)
    if image_wh is None:
        return heights.min_px, heights.max_px
    if min(image_wh) <= 0:
        raise ValueError(f"image_wh must be positive, got {image_wh}")
    side = input_px or heights.input_px
    if side <= 0:
        raise ValueError(f"input_px must be positive, got {side}")
    # The network saw the people at scale side / max(W, H); the same heights in frame pixels are larger.
    frame_per_input = max(image_wh) / side
    return heights.min_px * frame_per_input, heights.max_px * frame_per_input


def plan_for(
    backend: str,
    *,
    person_height_px: np.ndarray,
    image_wh: tuple[int, int],
    floor_mask: np.ndarray | None = None,
    input_px: int | None = None,
    max_tiles: int = 48,
) -> list[Tile]:
    """The crops the detector runs for a camera: the whole frame, then the tiles its heights call for."""
    heights = reliable_heights(backend)
    side = input_px or heights.input_px
    hints = SceneHints(person_height_px=person_height_px, floor_mask=floor_mask)
    tiles = plan_tiles(
        hints=hints,
        image_wh=image_wh,
        input_px=side,
        target_person_px=heights.best_px * side / heights.input_px,
        min_person_px=heights.min_px * side / heights.input_px,
        max_tiles=max_tiles,
        strips=heights.strips,
    )
    return whole_frame(image_wh) + tiles


def reliable_rows(
    backend: str,
    *,
    person_height_px: np.ndarray,
    image_wh: tuple[int, int],
    floor_mask: np.ndarray | None = None,
    input_px: int | None = None,
    max_tiles: int = 48,
) -> np.ndarray:
    """Per image row, whether a person standing there is shown to the network at a reliable height.

    Args:
        backend: A measured backend name.
        person_height_px: ``(H,)`` expected person height per foot row (NaN: no floor), e.g. from
            ``homography.scene.person_height_px_per_row``.
        image_wh: Frame size ``(W, H)``.
        floor_mask: Optional ``(H, W)`` walkable floor; tiles go only where it has floor.
        input_px: The backend's input size if not its default.
        max_tiles: The detector's ``max_tiles``.

    Returns:
        ``(H,)`` bool: True where some crop of the detector's plan (the whole frame or a tile) holds
        a person with feet on that row whole and shows them between ``min_px`` and ``max_px`` tall;
        False on rows without floor (NaN height) and where people are too small or too large.

    Raises:
        ValueError: Unknown backend, or hints that do not fit the frame.
    """
    heights = reliable_heights(backend)
    side = input_px or heights.input_px
    person = np.asarray(person_height_px, dtype=np.float64)
    if person.shape != (image_wh[1],):
        raise ValueError(f"person_height_px must have shape ({image_wh[1]},), got shape {person.shape}")
    lo, hi = heights.min_px * side / heights.input_px, heights.max_px * side / heights.input_px
    ok = np.zeros(len(person), dtype=bool)
    rows = np.arange(len(person), dtype=np.float64)
    finite = np.isfinite(person)
    for tile in plan_for(
        backend,
        person_height_px=person,
        image_wh=image_wh,
        floor_mask=floor_mask,
        input_px=input_px,
        max_tiles=max_tiles,
    ):
        scale = tile.input_wh[1] / tile.height if tile.input_wh else side / max(tile.width, tile.height)
        shown = np.where(finite, person, 0.0) * scale
        # The person's feet lie in the tile and their head too (or the tile starts at the frame top).
        whole = finite & (rows >= tile.y0) & (rows < tile.y1) & ((rows - person >= tile.y0) | (tile.y0 == 0))
        ok |= whole & (shown >= lo) & (shown <= hi)
    return ok
