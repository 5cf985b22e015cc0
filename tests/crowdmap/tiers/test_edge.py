import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bus.codec import PositionsMessage, StatusMessage, decode_message
from crowdmap.station import load_station
from crowdmap.tiers.edge import EdgeWorker, positions_from_detections
from detector.types import Detections
from iconizer.types import CameraStatus

ROOT = Path(__file__).resolve().parents[3]
PETS_GT = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "ground_truth" / "gt_full_ground_dev.csv"


def pets_frame_gt(frame: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in csv.DictReader(PETS_GT.open()) if int(r["frame_1based"]) == frame]
    foot = np.array([[float(r["foot_u_px"]), float(r["foot_v_px"])] for r in rows])
    world = np.array([[float(r["ground_x_m"]), float(r["ground_y_m"])] for r in rows])
    # The pets2009 layout's plan frame: x = X + 16, y = 10 - Y (station_layouts/pets2009/layout.yaml).
    return foot, np.column_stack((world[:, 0] + 16.0, 10.0 - world[:, 1]))


def boxes_around(foot_px: np.ndarray, height_px: float = 80.0) -> np.ndarray:
    return np.column_stack((foot_px[:, 0] - 15, foot_px[:, 1] - height_px, foot_px[:, 0] + 15, foot_px[:, 1]))


def test_pets_foot_points_land_on_the_ground_truth() -> None:
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    camera = station.layout.cameras[0]
    foot, expected_m = pets_frame_gt(1)
    detections = Detections("view-001", 1.0, boxes_around(foot), np.full(len(foot), 0.9))
    positions = positions_from_detections(
        detections, calib=station.calibrations[camera.id], floor=station.layout.floor(camera.floor), pixel_sigma_px=3.0
    )
    assert len(positions) == len(foot)
    errors = np.linalg.norm(positions.xy_m - expected_m, axis=1)
    # The shipped homography ignores the Tsai model's lens distortion: ~0.04 m mean, 0.35 m worst.
    assert np.median(errors) < 0.1
    assert errors.max() < 0.4
    assert np.all(positions.sigma_m > 0)


def test_points_above_the_horizon_or_off_the_plan_are_dropped() -> None:
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    camera = station.layout.cameras[0]
    # Row 5 is sky and building: it maps far beyond the 28 m plan or behind the camera.
    detections = Detections("view-001", 1.0, [[380, 0, 400, 5], [370, 250, 400, 350]], [0.9, 0.9])
    positions = positions_from_detections(
        detections, calib=station.calibrations[camera.id], floor=station.layout.floor(camera.floor), pixel_sigma_px=3.0
    )
    assert len(positions) == 1
    assert 0 <= positions.xy_m[0, 0] <= 28 and 0 <= positions.xy_m[0, 1] <= 28


@dataclass
class ScriptedObserver:
    """Plays back a list of detections, then reports a dead stream."""

    script: list[Detections]
    closed: bool = False

    def observe(self, now_s: float) -> Detections | None:
        return self.script.pop(0) if self.script else None

    def status(self, now_s: float) -> CameraStatus:
        return CameraStatus("view-001", now_s, "live" if self.script else "dead", 10.0, 0.1)

    def close(self) -> None:
        self.closed = True


def test_edge_worker_publishes_numbers_only_and_reports_health(make_publisher) -> None:
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    camera = station.layout.cameras[0]
    foot, _ = pets_frame_gt(1)
    script = [Detections("view-001", float(t), boxes_around(foot), np.full(len(foot), 0.8)) for t in range(3)]
    observer = ScriptedObserver(script)
    publisher = make_publisher()
    worker = EdgeWorker(
        "pets2009", camera, station.layout.floor("ground"), station.calibrations[camera.id], observer, publisher
    )
    calls = iter(range(100))
    worker.run(should_stop=lambda: next(calls) >= 5)
    messages = [decode_message(raw) for raw in publisher.sent]
    positions = [m for m in messages if isinstance(m, PositionsMessage)]
    statuses = [m for m in messages if isinstance(m, StatusMessage)]
    assert len(positions) == 3
    assert all(len(m.positions) == len(foot) for m in positions)
    assert statuses and statuses[-1].status.state == "dead"
    assert observer.closed
