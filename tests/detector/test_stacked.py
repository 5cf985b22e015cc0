"""Splitting a box over two people one behind the other, only where the network saw both."""

from pathlib import Path

import numpy as np
import pytest

from detector.scene import SceneHints
from detector.stacked import split_stacked

# Expected height 40 px on every row: a 64 px box (1.6 x) may hold two people.
HINTS = SceneHints(person_height_px=np.full(400, 40.0))
TALL = [100.0, 36.0, 116.0, 100.0]
UPPER = [100.0, 36.0, 116.0, 72.0]  # 36 px (0.9 x) at the top; the legs hidden by the one in front
UPPER_COMPLETED = [100.0, 36.0, 116.0, 76.0]  # completed to the expected 40 px
LOWER = [101.0, 60.0, 116.0, 100.0]  # 40 px at the bottom, its top 24 px (0.6 x) below the tall box's


def split(boxes, candidates, scores=None, hints=HINTS):
    candidates = np.array(candidates, float).reshape(-1, 4)
    scores = np.full(len(candidates), 0.25) if scores is None else np.array(scores, float)
    return split_stacked(
        np.array(boxes, float).reshape(-1, 4), candidates_xyxy_px=candidates, candidates_scores=scores, hints=hints
    )


@pytest.mark.parametrize(
    ("boxes", "candidates", "expected", "source"),
    [
        # Both halves in the raw output: two people.
        ([TALL], [TALL, UPPER, LOWER], [UPPER_COMPLETED, LOWER], [0, 0]),
        # Only one half: no evidence of a second person, the box stays.
        ([TALL], [TALL, LOWER], [TALL], [0]),
        ([TALL], [TALL, UPPER], [TALL], [0]),
        # 1.3 x is one tall person (or a loose calibration), whatever the candidates say.
        ([[100.0, 48.0, 116.0, 100.0]], [[100.0, 48.0, 116.0, 84.0], [100.0, 64.0, 116.0, 100.0]],
         [[100.0, 48.0, 116.0, 100.0]], [0]),
        # The "halves" end on nearby rows: one person drawn twice, not two.
        ([TALL], [[100.0, 36.0, 116.0, 92.0], [100.0, 50.0, 116.0, 100.0]], [TALL], [0]),
        # A half shorter than 0.7 x is a fragment (a head), not a person.
        ([TALL], [[100.0, 36.0, 116.0, 60.0], LOWER], [TALL], [0]),
        # A half already kept as a box of its own is that person: only the other half replaces the tall box.
        ([[60.0, 60.0, 76.0, 100.0], TALL, [101.0, 61.0, 116.0, 101.0]], [UPPER, LOWER],
         [[60.0, 60.0, 76.0, 100.0], UPPER_COMPLETED, [101.0, 61.0, 116.0, 101.0]], [0, 1, 2]),
        # Boxes that are not tall pass through untouched, in order.
        ([[60.0, 60.0, 76.0, 100.0], TALL], [UPPER, LOWER], [[60.0, 60.0, 76.0, 100.0], UPPER_COMPLETED, LOWER],
         [0, 1, 1]),
    ],
)  # fmt: skip
def test_a_tall_box_splits_only_with_both_halves_in_the_raw_output(boxes, candidates, expected, source) -> None:
    xyxy, index = split(boxes, candidates)
    np.testing.assert_allclose(xyxy, expected)
    assert index.tolist() == source


def test_the_best_scoring_half_of_each_kind_is_used() -> None:
    other_lower = [103.0, 62.0, 116.0, 99.0]
    xyxy, _ = split([TALL], [UPPER, LOWER, other_lower], scores=[0.3, 0.2, 0.4])
    np.testing.assert_allclose(xyxy, [UPPER_COMPLETED, other_lower])


def test_nothing_splits_without_an_expected_height() -> None:
    hints = SceneHints(person_height_px=np.full(400, np.nan))
    xyxy, index = split([TALL], [UPPER, LOWER], hints=hints)
    np.testing.assert_allclose(xyxy, [TALL])
    assert index.tolist() == [0]


def test_no_boxes_or_no_candidates() -> None:
    assert split([], [UPPER, LOWER])[0].shape == (0, 4)
    np.testing.assert_allclose(split([TALL], [])[0], [TALL])


def test_the_grand_central_couple_one_behind_the_other_is_two_people(model_root: Path) -> None:
    # The development view's couple at x 580-611: NanoDet draws one box 1.5 x the expected height
    # over both, and its raw output holds each of them (candidates scoring about 0.3).
    import cv2

    from detector import create_detector
    from detector.evaluation import load_points_csv, match_points

    data = Path(__file__).parents[2] / "../shared/data/grand_central"
    image = cv2.imread(str(data / "frame0_left.jpg"), cv2.IMREAD_COLOR)
    points = load_points_csv(data / "frame0_left_points.csv")
    couple = np.flatnonzero((points[:, 0] > 575) & (points[:, 0] < 615) & (points[:, 1] > 110) & (points[:, 1] < 200))
    assert len(couple) == 2
    hints = SceneHints.from_near_far(
        image_wh=(960, 1080), far_row_px=175, far_height_px=50, near_row_px=765, near_height_px=75
    )
    detector = create_detector("nanodet", person_height_px=hints.person_height_px, model_dir=model_root, threads=2)
    outputs = detector.run_network(image)
    found = {}
    for split_on in (True, False):
        detector.split_stacked = split_on
        xyxy, _, _ = detector.merge(outputs, (960, 1080))
        found[split_on] = {int(j) for _, j in match_points(xyxy, points[couple])}
    assert found[True] == {0, 1}
    assert len(found[False]) == 1  # without the rule one box stands for both
