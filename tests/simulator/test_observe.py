"""Simulated detections: foot points through the inverse calibration, with a detector's flaws."""

import cv2
import numpy as np
import pytest

from homography.fitting import calibrate_camera
from homography.projection import floor_sigma_m, to_floor
from simulator import DetectorModel, Simulation, SimulationConfig, observe, observe_with_truth
from station import StationLayout

PERFECT = DetectorModel(miss_probability=0.0, occluded_miss_probability=0.0, false_positives_per_frame=0.0)
CAMERAS = ["concourse-west", "gates-outside", "gates-inside", "platform-west", "platform-stairs", "platform-east"]


def _in_view(
    layout: StationLayout, camera_id: str, points_m: np.ndarray, heights_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Independently of the homography: which floor points a camera model sees, and their height in px."""
    camera = layout.camera(camera_id)
    model = camera.calibration.camera_model
    matrix = np.asarray(model.camera_matrix, dtype=np.float64)
    rvec, tvec = np.asarray(model.rvec, dtype=np.float64), np.asarray(model.tvec_m, dtype=np.float64)
    feet = np.column_stack((points_m, np.zeros(len(points_m))))
    heads = np.column_stack((points_m, np.full(len(points_m), -heights_m)))
    rotation, _ = cv2.Rodrigues(rvec)
    depth = (feet @ rotation.T + tvec)[:, 2]
    foot_px = cv2.projectPoints(feet, rvec, tvec, matrix, None)[0].reshape(-1, 2) if len(feet) else np.zeros((0, 2))
    head_px = cv2.projectPoints(heads, rvec, tvec, matrix, None)[0].reshape(-1, 2) if len(feet) else np.zeros((0, 2))
    width, height = camera.resolution_wh
    inside = (foot_px[:, 0] >= 0) & (foot_px[:, 0] < width) & (foot_px[:, 1] >= 0) & (foot_px[:, 1] < height)
    return inside & (depth > 0), foot_px[:, 1] - head_px[:, 1]


@pytest.mark.parametrize("camera_id", CAMERAS)
def test_detections_project_back_onto_the_people_within_the_noise(
    running_sim: Simulation, demo_layout: StationLayout, camera_id: str
) -> None:
    camera = demo_layout.camera(camera_id)
    calib = calibrate_camera(camera)
    rng = np.random.default_rng(5)
    checked = 0
    for t in running_sim.time_s + np.arange(0.0, 20.0, 2.0):
        observation = observe_with_truth(running_sim, camera, calib, t, rng)
        detections = observation.detections
        width, height = camera.resolution_wh
        real = np.isfinite(observation.truth_m[:, 0])
        # Boxes cut by the image border have a shifted bottom centre, as with a real detector.
        whole = (detections.xyxy_px[:, 0] > 0) & (detections.xyxy_px[:, 2] < width - 1)
        whole &= detections.xyxy_px[:, 3] < height - 1
        keep = real & whole
        floor_m, valid = to_floor(points_px=detections.foot_px[keep], calib=calib)
        assert valid.all()
        sigma = floor_sigma_m(points_px=detections.foot_px[keep], calib=calib, pixel_sigma_px=camera.pixel_sigma_px)
        error = np.linalg.norm(floor_m - observation.truth_m[keep], axis=1)
        # sqrt(2) for two noisy axes, 4 sigma, plus slack for the scale changing over the noise.
        assert np.all(error <= 4.0 * np.sqrt(2.0) * sigma + 0.05)
        checked += int(keep.sum())
    assert checked >= 20


@pytest.mark.parametrize("camera_id", CAMERAS)
def test_a_perfect_detector_reports_exactly_the_people_in_view(
    running_sim: Simulation, demo_layout: StationLayout, camera_id: str
) -> None:
    camera = demo_layout.camera(camera_id)
    model = DetectorModel(
        miss_probability=0.0,
        occluded_miss_probability=0.0,
        false_positives_per_frame=0.0,
        person_height_sd_m=0.0,
        height_noise=0.0,
        min_height_px=1.0,
    )
    t = running_sim.time_s
    detections = observe(running_sim, camera, calibrate_camera(camera), t, np.random.default_rng(0), model)
    in_view, _ = _in_view(demo_layout, camera_id, running_sim.positions(camera.floor), model.person_height_m)
    assert len(detections) == int(in_view.sum())
    assert detections.camera_id == camera_id
    assert detections.timestamp_s == t


def test_boxes_are_person_sized(running_sim: Simulation, demo_layout: StationLayout) -> None:
    camera = demo_layout.camera("gates-outside")
    observation = observe_with_truth(
        running_sim, camera, calibrate_camera(camera), running_sim.time_s, np.random.default_rng(1), PERFECT
    )
    truth = observation.truth_m
    _, expected_px = _in_view(demo_layout, "gates-outside", truth, PERFECT.person_height_m)
    boxes = observation.detections
    inside = boxes.xyxy_px[:, 1] > 0  # heads not cut by the top of the image
    ratio = boxes.height_px[inside] / expected_px[inside]
    assert 0.8 <= np.median(ratio) <= 1.2
    aspect = (boxes.xyxy_px[:, 2] - boxes.xyxy_px[:, 0]) / boxes.height_px
    assert 0.3 <= np.median(aspect) <= 0.5


def test_about_7_percent_of_clearly_visible_people_are_missed(
    running_sim: Simulation, demo_layout: StationLayout
) -> None:
    camera = demo_layout.camera("gates-outside")
    calib = calibrate_camera(camera)
    model = DetectorModel(false_positives_per_frame=0.0, occluded_miss_probability=0.0)
    perfect = DetectorModel(miss_probability=0.0, occluded_miss_probability=0.0, false_positives_per_frame=0.0)
    seen = found = 0
    for seed in range(40):
        t = running_sim.time_s
        found += len(observe(running_sim, camera, calib, t, np.random.default_rng(seed), model))
        seen += len(observe(running_sim, camera, calib, t, np.random.default_rng(seed), perfect))
    assert seen > 500
    assert 0.04 <= 1.0 - found / seen <= 0.10


def test_false_positives_stand_on_the_floor_where_nobody_is(
    running_sim: Simulation, demo_layout: StationLayout
) -> None:
    camera = demo_layout.camera("gates-inside")
    calib = calibrate_camera(camera)
    model = DetectorModel(false_positives_per_frame=3.0)
    ghosts = 0
    for seed in range(20):
        observation = observe_with_truth(
            running_sim, camera, calib, running_sim.time_s, np.random.default_rng(seed), model
        )
        fake = ~np.isfinite(observation.truth_m[:, 0])
        ghosts += int(fake.sum())
        _, valid = to_floor(points_px=observation.detections.foot_px[fake], calib=calib)
        assert valid.all()
        assert np.all(observation.detections.confidence[fake] <= 0.7)
    assert 30 <= ghosts <= 90


def test_a_camera_sees_nobody_on_another_floor(running_sim: Simulation, demo_layout: StationLayout) -> None:
    camera = demo_layout.camera("platform-stairs")
    observation = observe_with_truth(
        running_sim, camera, calibrate_camera(camera), running_sim.time_s, np.random.default_rng(2), PERFECT
    )
    platform = running_sim.positions("platform")
    gaps = np.linalg.norm(observation.truth_m[:, None] - platform[None], axis=2)
    assert np.all(gaps.min(axis=1) == 0.0)


def test_the_detector_noise_does_not_touch_the_crowd(demo_layout: StationLayout) -> None:
    fast = SimulationConfig(warmup_s=30.0)
    watched = Simulation(demo_layout, seed=4, start_s=0.0, config=fast)
    unwatched = Simulation(demo_layout, seed=4, start_s=0.0, config=fast)
    camera = demo_layout.camera("gates-inside")
    calib = calibrate_camera(camera)
    rng = np.random.default_rng(9)
    for t in np.arange(0.0, 10.0, 0.5):
        observe(watched, camera, calib, t, rng)
    unwatched.advance_to(10.0)
    watched.advance_to(10.0)
    np.testing.assert_array_equal(watched.positions("concourse"), unwatched.positions("concourse"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"miss_probability": 1.5}, r"miss_probability must lie in \[0, 1\]"),
        ({"min_height_px": 0.0}, "min_height_px must be positive"),
        ({"false_positives_per_frame": -1.0}, "must not be negative"),
    ],
)
def test_bad_detector_models_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DetectorModel(**changes)
