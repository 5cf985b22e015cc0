"""``crowdmap eval station``: the stable JSON interface on PETS2009 frames, real detector and known answers."""

import json
from pathlib import Path

import numpy as np
import pytest

from crowdmap.cli import main
from detector.evaluation import load_mot_boxes
from iconizer.footprint import BODY_RADIUS_M

ROOT = Path(__file__).parents[2]
PETS = ROOT / "../shared/data/pets2009_s2l1"
GT = PETS / "ground_truth/gt_full_mot_dev.txt"
STABLE_KEYS = {
    "zone_count_mae", "zone_count_bias", "station_count_mae", "level_agreement", "dot_precision", "dot_recall",
    "dot_error_m_median", "frames", "fps", "backend",
}  # fmt: skip


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    common = ["--station", "station_layouts/pets2009", "--camera", "view-001", "--video", str(PETS / "vtest.avi")]
    assert main(["eval", "station", *common, "--gt", str(GT), *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_ground_truth_as_detector_scores_perfectly(capsys: pytest.CaptureFixture[str]) -> None:
    boxes = load_mot_boxes(GT)[1]
    result = run_json(
        capsys, "--frames", "1:1", "--backend", "fake", "--option", f"xyxy_px={json.dumps(boxes.tolist())}"
    )
    assert STABLE_KEYS <= set(result)
    assert result["backend"] == "fake"
    assert result["frames"] == 1
    assert result["zone_count_mae"] == 0.0
    assert result["station_count_mae"] == 0.0
    assert result["level_agreement"] == 1.0
    assert (result["dot_precision"], result["dot_recall"], result["dot_error_m_median"]) == (1.0, 1.0, 0.0)
    assert result["truth_dots"] == len(boxes)
    assert result["fps"] > 0


def test_a_person_the_detector_misses(capsys: pytest.CaptureFixture[str]) -> None:
    boxes = load_mot_boxes(GT)[1]
    result = run_json(
        capsys, "--frames", "1:1", "--backend", "fake", "--option", f"xyxy_px={json.dumps(boxes[1:].tolist())}"
    )
    assert result["dot_recall"] == pytest.approx((len(boxes) - 1) / len(boxes))
    assert result["dot_precision"] == 1.0
    assert result["station_count_mae"] == 1.0
    # One person lost from one zone: the total error over the zones is one person.
    assert result["zone_count_mae"] * result["zone_frames"] == pytest.approx(1.0)
    assert result["zone_count_bias"] < 0


@pytest.mark.parametrize(("argv", "radius_m"), [([], BODY_RADIUS_M), (["--body-radius", "0"], 0.0)])
def test_both_sides_count_zones_by_the_same_footprint(
    argv, radius_m, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two people 0.1 m inside the lawn from its edge with the road (x = 9 m): as points both are on
    # the lawn (2 / 0); by footprint 0.62 of each is (1.24 / 0.76 -> 1 / 1). The ground truth is
    # the detector: counted alike on both sides, the counts agree whatever the footprint.
    from crowdmap.station import load_station
    from homography.projection import to_image

    calib = load_station("pets2009").calibrations["view-001"]
    feet_px = to_image(points_m=[[8.9, 14.0], [8.9, 16.0]], calib=calib, distorted=True)
    boxes = [[u - 15.0, v - 80.0, u + 15.0, v] for u, v in feet_px]
    gt = tmp_path / "gt.txt"
    gt.write_text(
        "".join(f"1,{k},{x0},{y0},{x1 - x0},{y1 - y0},1,-1,-1,-1\n" for k, (x0, y0, x1, y1) in enumerate(boxes))
    )
    common = ["--station", "station_layouts/pets2009", "--camera", "view-001", "--video", str(PETS / "vtest.avi")]
    fake = ["--backend", "fake", "--option", f"xyxy_px={json.dumps(boxes)}"]
    assert main(["eval", "station", *common, "--gt", str(gt), "--frames", "1:1", *fake, *argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["body_radius_m"] == radius_m
    assert result["zone_count_mae"] == 0.0
    assert result["truth_dots"] == 2


def test_a_ready_detector_runs_in_place_of_the_cameras() -> None:
    # bench/pets_replay.py hands the runner a detector replaying cached network outputs; whatever is
    # given is what runs, frame by frame, and nothing else is built.
    from crowdmap.evaluation import evaluate_station
    from crowdmap.station import load_station
    from detector import create_detector

    truth = load_mot_boxes(GT)
    detector = create_detector("fake", xyxy_px=truth[1][1:])
    result = evaluate_station(
        load_station(str(ROOT / "station_layouts/pets2009")),
        camera_id="view-001",
        video=PETS / "vtest.avi",
        truth_boxes=truth,
        frames=(1, 2),
        backend="fake",
        detector=detector,
    )
    assert detector.calls == 2
    assert result["backend"] == "fake"
    assert result["truth_dots"] == len(truth[1]) + len(truth[2])
    assert result["dots"] == 2 * (len(truth[1]) - 1)


@pytest.mark.slow
def test_real_pipeline_on_pets_frames(capsys: pytest.CaptureFixture[str], model_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("CROWDMAP_MODEL_DIR", str(model_root))
    result = run_json(capsys, "--frames", "21:28")
    assert STABLE_KEYS <= set(result)
    assert result["backend"] == "nanodet"
    assert result["frames"] == 8
    assert result["zone_frames"] == 8 * 3  # lawn, road and forecourt, all seen by view-001
    truth = load_mot_boxes(GT)
    assert result["truth_dots"] == sum(len(truth[n]) for n in range(21, 29))
    # The default detector finds nearly everyone on these frames (measured: recall 0.93-0.95):
    # losing a third of the people, or publishing dots far from them, fails here.
    assert result["dot_recall"] >= 0.8
    assert result["dot_precision"] >= 0.75
    assert result["zone_count_mae"] <= 0.5
    assert result["station_count_mae"] <= 1.5
    assert 0.0 <= result["level_agreement"] <= 1.0
    assert result["fps"] > 0 and np.isfinite(result["fps"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--camera", "view-009"], "camera 'view-009' is not in station"),
        (["--video", "missing.avi"], "no such file"),
        (["--frames", "5:2"], "1 <= A <= B"),
        (["--frames", "1:900"], "ends before ground-truth frame 796"),
        (["--backend", "yolo"], "unknown detector"),
        (["--body-radius", "-0.2"], "--body-radius must be a finite number of metres >= 0, got -0.2"),
        (["--body-radius", "nan"], "--body-radius must be a finite number of metres >= 0, got nan"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys: pytest.CaptureFixture[str]) -> None:
    common = {"--camera": "view-001", "--video": str(PETS / "vtest.avi"), "--frames": "1:1", "--backend": "fake"}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        common[flag] = value
    words = [w for pair in common.items() for w in pair]
    assert main(["eval", "station", "--station", "station_layouts/pets2009", "--gt", str(GT), *words]) == 2
    assert message in capsys.readouterr().err
