"""Accuracy floors on real data with the default detector: a change that loses half the people fails here.

Not a tuning target (the figures with their baselines are in docs/BENCHMARKS.md, from
bench/detector_accuracy.py); the floors sit well under today's results and well over what a broken
tile plan, merge or filter gives.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector import create_detector
from detector.evaluation import BoxScore, load_mot_boxes, load_points_csv, point_score
from detector.scene import SceneHints

DATA = Path(__file__).parents[2] / "../shared/data"


@pytest.mark.slow
def test_grand_central_high_view_floor(model_root: Path) -> None:
    # Today: recall 0.875, precision 0.875 (40 people 43-88 px tall, operator heights).
    image = cv2.imread(str(DATA / "grand_central/frame0_left.jpg"), cv2.IMREAD_COLOR)
    points = load_points_csv(DATA / "grand_central/frame0_left_points.csv")
    hints = SceneHints.from_near_far(
        image_wh=(image.shape[1], image.shape[0]), far_row_px=175, far_height_px=50, near_row_px=765, near_height_px=75
    )
    detector = create_detector("nanodet", person_height_px=hints.person_height_px, model_dir=model_root, threads=2)
    found = detector.detect(image, camera_id="gc", timestamp_s=0.0)
    score = point_score(found.xyxy_px, points)
    assert score["recall"] >= 0.7, score
    assert score["precision"] >= 0.7, score


@pytest.mark.slow
def test_pets_low_view_floor(model_root: Path) -> None:
    # Today: F1 about 0.9 over frames 1-400; here every 40th frame of them, the default detector.
    truth = load_mot_boxes(DATA / "pets2009_s2l1/ground_truth/gt_full_mot_dev.txt")
    detector = create_detector("nanodet", model_dir=model_root, threads=2)
    capture = cv2.VideoCapture(str(DATA / "pets2009_s2l1/vtest.avi"))
    score = BoxScore()
    for number in range(1, 401):
        ok, frame = capture.read()
        assert ok
        if number % 40 == 1:
            found = detector.detect(frame, camera_id="pets", timestamp_s=number / 10.0)
            score.add(found.xyxy_px, truth.get(number, np.zeros((0, 4))))
    capture.release()
    summary = score.summary()
    assert summary["f1"] >= 0.75, summary
