"""Running a detector over real ground truth (``detector.evaluation_runs``), with the deterministic fake backend."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector import create_detector
from detector.evaluation import load_mot_boxes, load_points_csv
from detector.evaluation_runs import evaluate_image, evaluate_video

DATA = Path(__file__).parents[2] / "../shared/data"
PETS = DATA / "pets2009_s2l1"
GC = DATA / "grand_central"


def test_video_scores_each_frame_against_its_own_truth() -> None:
    truth = load_mot_boxes(PETS / "ground_truth/gt_full_mot_dev.txt")
    detector = create_detector("fake", xyxy_px=truth[3])  # frame 3's truth, returned for every frame
    calls = []
    result = evaluate_video(
        detector,
        video=PETS / "vtest.avi",
        truth=truth,
        frames=(3, 4),
        camera_id="view-001",
        on_frame=lambda: calls.append(1),
    )
    assert len(calls) == 2
    assert result["frames"] == 2 and result["frames_range"] == [3, 4]
    assert result["ground_truth"] == len(truth[3]) + len(truth[4])
    # Frame 3 matches itself exactly; frame 4 (0.14 s later) still matches most people at IoU 0.5.
    assert len(truth[3]) < result["true_positives"] <= len(truth[3]) + len(truth[4])
    assert result["foot_error_m_median"] is None  # no projection given
    assert result["ms_per_frame_median"] > 0


def test_video_projects_feet_with_the_given_function() -> None:
    truth = load_mot_boxes(PETS / "ground_truth/gt_full_mot_dev.txt")
    detector = create_detector("fake", xyxy_px=truth[1] + np.array([0.0, 0.0, 0.0, 4.0]))
    result = evaluate_video(
        detector,
        video=PETS / "vtest.avi",
        truth=truth,
        frames=(1, 1),
        camera_id="view-001",
        to_floor=lambda points_px: points_px / 100.0,  # 1 px = 1 cm on this made-up floor
    )
    assert result["foot_error_px_median"] == pytest.approx(4.0)
    assert result["foot_error_m_median"] == pytest.approx(0.04)


def test_video_that_ends_early_is_named(tmp_path: Path) -> None:
    truth = load_mot_boxes(PETS / "ground_truth/gt_full_mot_dev.txt")
    with pytest.raises(ValueError, match="ends before ground-truth frame 796"):
        evaluate_video(create_detector("fake"), video=PETS / "vtest.avi", truth=truth, frames=(795, 796), camera_id="c")


def test_image_scores_points_inside_boxes() -> None:
    image = cv2.imread(str(GC / "frame0_left.jpg"), cv2.IMREAD_COLOR)
    points = load_points_csv(GC / "frame0_left_points.csv")
    boxes = [[x - 10, y - 5, x + 10, y + 40] for x, y in points[:3]]
    result = evaluate_image(create_detector("fake", xyxy_px=boxes), image_bgr=image, points_px=points, camera_id="gc")
    assert result["matched"] == 3 and result["precision"] == 1.0
    assert result["frames"] == 1
    assert result["tiles"] is None  # the fake detector does not tile
