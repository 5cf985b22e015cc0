"""Reliable person heights: the measured table, converted to frame pixels and to a camera's rows."""

import numpy as np
import pytest

from detector.reliability import (
    RELIABLE_HEIGHTS,
    ReliableHeights,
    plan_for,
    reliable_person_height_px,
    reliable_rows,
)
from detector.scene import SceneHints


def test_network_input_range_is_the_measured_one() -> None:
    measured = RELIABLE_HEIGHTS["nanodet"]
    assert reliable_person_height_px("nanodet") == (measured.min_px, measured.max_px)


@pytest.mark.parametrize(
    ("image_wh", "input_px", "expected"),
    [
        ((832, 624), None, (80.0, 224.0)),  # the whole frame is shrunk by 416 / 832 = 0.5: twice the heights
        ((416, 300), None, (40.0, 112.0)),
        ((832, 624), 832, (40.0, 112.0)),  # an 832 px input sees the frame at full size
    ],
)
def test_frame_range_scales_with_the_whole_frame_pass(image_wh, input_px, expected) -> None:
    assert reliable_person_height_px("nanodet", image_wh=image_wh, input_px=input_px) == pytest.approx(expected)


def test_unknown_backend_names_the_measured_ones() -> None:
    with pytest.raises(ValueError, match=r"no reliable person-height measurement for backend 'hog'.*nanodet"):
        reliable_person_height_px("hog")


def test_bad_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="min_px <= best_px <= max_px"):
        ReliableHeights(input_px=416, min_px=50, max_px=40, best_px=45, source="test")


def test_rows_of_a_high_view_are_reliable_thanks_to_tiles() -> None:
    # Grand Central-like: 43-88 px people in a 960x1080 frame; the whole frame alone shows them 17-34 px tall.
    hints = SceneHints.from_near_far(
        image_wh=(960, 1080), far_row_px=175, far_height_px=50, near_row_px=765, near_height_px=75
    )
    lo, hi = reliable_person_height_px("nanodet", image_wh=(960, 1080))
    whole_only = (hints.person_height_px >= lo) & (hints.person_height_px <= hi)
    assert not whole_only.any()
    rows = reliable_rows("nanodet", person_height_px=hints.person_height_px, image_wh=(960, 1080))
    # Every row whose person fits in the frame is covered by a tile that shows them 40-112 px tall.
    assert rows[60:].all()
    assert len(plan_for("nanodet", person_height_px=hints.person_height_px, image_wh=(960, 1080))) > 1


def test_rows_without_floor_or_with_giant_people_are_not_reliable() -> None:
    heights = np.full(600, np.nan)
    heights[100:300] = 60.0  # 60 px in an 800 px wide frame: 31 px in the whole-frame input, tiled
    heights[300:600] = 500.0  # 260 px in the input: too large for the network, and no tile makes it smaller
    rows = reliable_rows("nanodet", person_height_px=heights, image_wh=(800, 600))
    assert not rows[:100].any()
    assert rows[160:300].all()
    assert not rows[300:].any()


def test_rows_need_hints_of_the_frame_height() -> None:
    with pytest.raises(ValueError, match=r"shape \(600,\)"):
        reliable_rows("nanodet", person_height_px=np.full(500, 50.0), image_wh=(800, 600))
