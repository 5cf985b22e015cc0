"""detector.frame_edges: people cut by the image side, on hand-made boxes whose answer is known."""

import numpy as np
import pytest

from detector.frame_edges import BODY_ASPECT, complete_side_cuts, side_cut

WIDTH = 768
# A 100 px tall person is BODY_ASPECT x 100 = 41 px wide.
BODY = BODY_ASPECT * 100.0


def complete(boxes: list[list[float]], heights: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    expected = np.full(len(boxes), 100.0) if heights is None else np.asarray(heights, dtype=float)
    return complete_side_cuts(np.asarray(boxes, dtype=float).reshape(-1, 4), expected, image_width_px=WIDTH)


def test_a_person_half_in_view_at_the_left_is_completed_to_a_whole_body() -> None:
    # 30 px of a 41 px body visible: the body spans x1 - 41 .. x1, its foot point at 30 - 20.5 = 9.5.
    boxes, keep = complete([[0.0, 200.0, 30.0, 300.0]])
    assert keep.tolist() == [True]
    np.testing.assert_allclose(boxes, [[30.0 - BODY, 200.0, 30.0, 300.0]])
    np.testing.assert_allclose((boxes[0, 0] + boxes[0, 2]) / 2.0, 30.0 - BODY / 2.0)


def test_a_person_half_in_view_at_the_right_is_completed_to_a_whole_body() -> None:
    boxes, keep = complete([[WIDTH - 25.0, 200.0, WIDTH - 1.0, 300.0]])  # within the 2 px margin
    assert keep.tolist() == [True]
    np.testing.assert_allclose(boxes, [[WIDTH - 25.0, 200.0, WIDTH - 25.0 + BODY, 300.0]])


@pytest.mark.parametrize(
    "box",
    [
        [0.0, 200.0, 15.0, 300.0],  # foot point at 15 - 20.5 < 0
        [1.5, 200.0, 20.0, 300.0],  # 18.5 px visible: still under half a body
        [WIDTH - 12.0, 200.0, float(WIDTH), 300.0],  # foot point beyond the right side
    ],
)
def test_a_person_whose_feet_are_outside_the_frame_goes(box: list[float]) -> None:
    _, keep = complete([box])
    assert keep.tolist() == [False]


def test_the_boundary_is_the_foot_point_on_the_frame_edge() -> None:
    # Exactly half a body visible: the foot point is on the edge, still in the frame.
    _, keep = complete([[0.0, 200.0, BODY / 2.0, 300.0], [0.0, 200.0, BODY / 2.0 - 0.5, 300.0]])
    assert keep.tolist() == [True, False]


def test_a_larger_visible_share_keeps_only_people_mostly_in_view() -> None:
    # 30 of 41 px in view (0.73): kept at the default (foot point in the frame), dropped when three
    # quarters of the body must be in view; 35 px (0.85) kept by both.
    boxes = np.array([[0.0, 200.0, 30.0, 300.0], [WIDTH - 35.0, 200.0, float(WIDTH), 300.0]])
    expected = np.full(2, 100.0)
    _, keep = complete_side_cuts(boxes, expected, image_width_px=WIDTH)
    assert keep.tolist() == [True, True]
    _, keep = complete_side_cuts(boxes, expected, image_width_px=WIDTH, min_visible_share=0.75)
    assert keep.tolist() == [False, True]


def test_the_body_width_follows_the_expected_height_of_the_foot_row() -> None:
    # Same visible 15 px: a 50 px person (20.5 px wide) has their foot point in view, a 100 px one not.
    boxes, keep = complete([[0.0, 250.0, 15.0, 300.0], [0.0, 200.0, 15.0, 300.0]], heights=[50.0, 100.0])
    assert keep.tolist() == [True, False]
    np.testing.assert_allclose(boxes[0, 0], 15.0 - BODY_ASPECT * 50.0)


@pytest.mark.parametrize(
    ("box", "height"),
    [
        ([100.0, 200.0, 130.0, 300.0], 100.0),  # not on a side
        ([0.0, 200.0, 45.0, 300.0], 100.0),  # on the side but a whole body wide: a person touching the edge
        ([3.0, 200.0, 15.0, 300.0], 100.0),  # 3 px from the side: not cut
        ([0.0, 200.0, float(WIDTH), 300.0], 100.0),  # both sides: not one person, left to other rules
        ([0.0, 200.0, 10.0, 300.0], float("nan")),  # no expected height on that row
    ],
)
def test_boxes_that_are_not_a_cut_person_are_left_alone(box: list[float], height: float) -> None:
    boxes, keep = complete([box], heights=[height])
    assert keep.tolist() == [True]
    np.testing.assert_array_equal(boxes, [box])


def test_each_box_is_judged_on_its_own() -> None:
    boxes, keep = complete(
        [[0.0, 200.0, 30.0, 300.0], [300.0, 200.0, 340.0, 300.0], [WIDTH - 10.0, 200.0, float(WIDTH), 300.0]]
    )
    assert keep.tolist() == [True, True, False]
    np.testing.assert_array_equal(boxes[1], [300.0, 200.0, 340.0, 300.0])


def test_side_cut_masks() -> None:
    left, right = side_cut(np.array([[0.0, 0, 10, 10], [760, 0, 767, 10], [0, 0, 768, 10], [5, 0, 10, 10]]), WIDTH)
    assert left.tolist() == [True, False, False, False]
    assert right.tolist() == [False, True, False, False]


def test_no_boxes() -> None:
    boxes, keep = complete_side_cuts(np.zeros((0, 4)), np.zeros(0), image_width_px=WIDTH)
    assert boxes.shape == (0, 4) and keep.shape == (0,)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="expected_height_px must have shape \\(1,\\)"):
        complete_side_cuts(np.zeros((1, 4)), np.zeros(2), image_width_px=WIDTH)
    with pytest.raises(ValueError, match="must be positive"):
        complete_side_cuts(np.zeros((1, 4)), np.zeros(1), image_width_px=0)
    with pytest.raises(ValueError, match=r"min_visible_share must lie in \(0, 1\], got 1.5"):
        complete_side_cuts(np.zeros((1, 4)), np.zeros(1), image_width_px=WIDTH, min_visible_share=1.5)
