from pathlib import Path

import numpy as np
import pytest

from detector.evaluation import BoxScore, load_mot_boxes, load_points_csv, match_boxes, match_points, point_score

PETS_GT = Path(__file__).parents[2] / "../shared/data/pets2009_s2l1/ground_truth/gt_full_mot_dev.txt"


def test_load_mot_boxes_reads_the_pets_ground_truth() -> None:
    truth = load_mot_boxes(PETS_GT)
    assert min(truth) == 1
    assert max(truth) == 400
    # First line: 1,9,499.20,157.69,31.03,75.17
    assert np.any(np.all(np.isclose(truth[1], [499.20, 157.69, 530.23, 232.86]), axis=1))


def test_load_mot_boxes_names_a_short_line(tmp_path: Path) -> None:
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4,5,6\n1,2,3\n")
    with pytest.raises(ValueError, match=r"gt.txt:2: expected at least 6"):
        load_mot_boxes(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # A CSV with a header instead of MOTChallenge text: the header line is named.
        ("frame,id,left,top,width,height\n1,2,3,4,5,6\n", r"gt.txt:1: 'frame,id,left,top,width,height' is not numbers"),
        ("1,2,3,4,5,6\n2,7,1.5,x,5,6\n", r"gt.txt:2: '2,7,1.5,x,5,6' is not numbers"),
        (b"\x00\xff\xfe binary", r"gt.txt: not a text file"),
    ],
)
def test_load_mot_boxes_names_file_line_and_format(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "gt.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=message) as raised:
        load_mot_boxes(path)
    assert "frame,id,left,top,width,height[,...]" in str(raised.value)


def test_load_points_csv_names_the_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("x_px,y_px\n1,2\n3,four\n")
    with pytest.raises(ValueError, match=r"p.csv:3: expected numbers in columns x_px,y_px"):
        load_points_csv(path)


def test_load_points_csv_requires_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="x_px,y_px"):
        load_points_csv(path)


@pytest.mark.parametrize(
    ("pred", "gt", "expected"),
    [
        ([[0, 0, 10, 10]], [[0, 0, 10, 10]], [[0, 0]]),
        ([[0, 0, 10, 10]], [[5, 5, 15, 15]], []),  # IoU 1/7
        ([[0, 0, 10, 10], [1, 0, 11, 10]], [[0, 0, 10, 10]], [[0, 0]]),  # one-to-one: the duplicate is a false positive
        ([], [[0, 0, 10, 10]], []),
    ],
)
def test_match_boxes_one_to_one(pred, gt, expected) -> None:
    pairs = match_boxes(np.array(pred, float).reshape(-1, 4), np.array(gt, float).reshape(-1, 4))
    assert pairs.tolist() == expected


def test_match_points_finds_the_largest_matching() -> None:
    # Box 0 covers both points, box 1 only point 0: a greedy pass could give box 0 point 0 and leave box 1 empty.
    boxes = np.array([[0, 0, 30, 30], [0, 0, 12, 12]], float)
    points = np.array([[5, 5], [25, 25]], float)
    pairs = match_points(boxes, points)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (1, 0)]


def test_point_score_counts_each_box_once() -> None:
    boxes = np.array([[0, 0, 30, 30]], float)
    points = np.array([[5, 5], [25, 25]], float)
    assert point_score(boxes, points) == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "matched": 1,
        "detections": 1,
        "points": 2,
        "count_error": -1,
    }


def test_box_score_summary_known_answer() -> None:
    score = BoxScore()
    score.add(np.array([[0, 0, 10, 20], [50, 50, 60, 60]], float), np.array([[0, 2, 10, 22]], float))
    score.add(np.zeros((0, 4)), np.array([[0, 0, 10, 10]], float))
    summary = score.summary()
    assert summary["precision"] == 0.5
    assert summary["recall"] == 0.5
    assert summary["f1"] == 0.5
    assert summary["count_mae"] == 1.0
    assert summary["foot_error_px_median"] == pytest.approx(2.0)
    assert summary["frames"] == 2
