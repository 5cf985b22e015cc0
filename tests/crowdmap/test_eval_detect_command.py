"""``crowdmap eval detect``: the stable JSON interface, on real data, with the deterministic fake backend."""

import json
from pathlib import Path

import numpy as np
import pytest

from crowdmap.cli import main
from detector.evaluation import load_mot_boxes, load_points_csv
from detector.types import Detections

ROOT = Path(__file__).parents[2]
PETS = ROOT / "../shared/data/pets2009_s2l1"
GC = ROOT / "../shared/data/grand_central"
REQUIRED_KEYS = {
    "precision", "recall", "f1", "count_mae", "foot_error_px_median", "frames", "ms_per_frame_median", "backend",
}  # fmt: skip


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["eval", "detect", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_video_mode_known_answer(capsys: pytest.CaptureFixture[str]) -> None:
    truth = load_mot_boxes(PETS / "ground_truth/gt_full_mot_dev.txt")
    box = truth[1][0]  # one real person of frame 1, returned verbatim by the fake backend
    result = run_json(
        capsys,
        "--video", str(PETS / "vtest.avi"),
        "--gt", str(PETS / "ground_truth/gt_full_mot_dev.txt"),
        "--frames", "1:1",
        "--backend", "fake",
        "--option", f"xyxy_px={json.dumps([box.tolist()])}",
    )  # fmt: skip
    assert REQUIRED_KEYS <= set(result)
    assert result["backend"] == "fake"
    assert result["frames"] == 1
    assert result["precision"] == 1.0
    assert result["recall"] == pytest.approx(1 / len(truth[1]))
    assert result["count_mae"] == len(truth[1]) - 1
    assert result["foot_error_px_median"] == pytest.approx(0.0, abs=1e-9)


def test_video_mode_with_a_station_reports_metres(capsys: pytest.CaptureFixture[str]) -> None:
    truth = load_mot_boxes(PETS / "ground_truth/gt_full_mot_dev.txt")
    shifted = truth[2][0] + np.array([0.0, 0.0, 0.0, 10.0])  # foot 10 px too low
    result = run_json(
        capsys,
        "--video", str(PETS / "vtest.avi"),
        "--gt", str(PETS / "ground_truth/gt_full_mot_dev.txt"),
        "--frames", "2:2",
        "--backend", "fake",
        "--station", "station_layouts/pets2009",
        "--camera", "view-001",
        "--option", f"xyxy_px={json.dumps([shifted.tolist()])}",
    )  # fmt: skip
    assert result["foot_error_px_median"] == pytest.approx(10.0)
    assert 0.05 < result["foot_error_m_median"] < 2.0


def test_image_mode_counts_points_inside_boxes(capsys: pytest.CaptureFixture[str]) -> None:
    points = load_points_csv(GC / "frame0_left_points.csv")
    boxes = [[x - 10, y - 5, x + 10, y + 40] for x, y in points[:2]] + [[0, 0, 5, 5]]
    result = run_json(
        capsys,
        "--image", str(GC / "frame0_left.jpg"),
        "--gt-points", str(GC / "frame0_left_points.csv"),
        "--backend", "fake",
        "--option", f"xyxy_px={json.dumps(np.asarray(boxes).tolist())}",
    )  # fmt: skip
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / len(points))
    assert result["frames"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--video", str(PETS / "vtest.avi")], "--video needs --gt"),
        (["--image", str(GC / "frame0_left.jpg")], "--image needs --gt-points"),
        (
            [
                "--video",
                str(PETS / "vtest.avi"),
                "--gt",
                str(PETS / "ground_truth/gt_full_mot_dev.txt"),
                "--frames",
                "5:2",
            ],
            "1 <= A <= B",
        ),
        (["--video", "missing.avi", "--gt", str(PETS / "ground_truth/gt_full_mot_dev.txt")], "no such file"),
        (
            [
                "--image",
                str(GC / "frame0_left.jpg"),
                "--gt-points",
                str(GC / "frame0_left_points.csv"),
                "--backend",
                "yolo",
            ],
            "unknown detector",
        ),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "detect", *argv]) == 2
    assert message in capsys.readouterr().err


class _ClockDetector:
    """Records the timestamps it is given and finds nobody; claims temporal settings, as a temporal detector."""

    temporal = "on"

    def __init__(self, **options: object) -> None:
        self.options = options
        self.timestamps: list[float] = []
        _BUILT.append(self)

    def detect(self, frame_bgr, *, camera_id: str, timestamp_s: float) -> Detections:
        self.timestamps.append(timestamp_s)
        return Detections.empty(camera_id, timestamp_s)


_BUILT: list[_ClockDetector] = []


@pytest.fixture
def clock_backend(monkeypatch: pytest.MonkeyPatch) -> list[_ClockDetector]:
    import detector

    _BUILT.clear()
    monkeypatch.setitem(detector.BACKENDS, "clock", f"{__name__}:_ClockDetector")
    return _BUILT


def test_video_frames_carry_their_capture_time_in_seconds(capsys, clock_backend) -> None:
    # The temporal filter's clock: vtest.avi states 10 frames per second, so frames 3-5 are 0.2-0.4 s in.
    result = run_json(
        capsys,
        "--video", str(PETS / "vtest.avi"),
        "--gt", str(PETS / "ground_truth/gt_full_mot_dev.txt"),
        "--frames", "3:5",
        "--backend", "clock",
    )  # fmt: skip
    assert clock_backend[0].timestamps == pytest.approx([0.2, 0.3, 0.4])
    assert result["temporal"] is True


def test_image_mode_turns_the_temporal_filter_off(capsys, clock_backend) -> None:
    run_json(
        capsys,
        "--image", str(GC / "frame0_left.jpg"),
        "--gt-points", str(GC / "frame0_left_points.csv"),
        "--backend", "clock",
    )  # fmt: skip
    assert clock_backend[0].options["temporal"] is False


def test_a_wrong_ground_truth_file_is_named_with_its_line_and_the_format(tmp_path, capsys) -> None:
    """Issue 15: the points CSV given where MOTChallenge boxes are expected."""
    wrong = tmp_path / "points.csv"
    wrong.write_text("x_px,y_px\n12.5,40\n", encoding="utf-8")
    code = main(["eval", "detect", "--video", str(PETS / "vtest.avi"), "--gt", str(wrong), "--backend", "fake"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"crowdmap eval detect: {wrong}:1: ")
    assert "MOTChallenge text: one box per line, 'frame,id,left,top,width,height[,...]' in pixels" in err
    assert "could not convert" not in err
