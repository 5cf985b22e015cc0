"""The simulated demo station: a valid layout whose cameras see what they are meant to see."""

import cv2
import numpy as np
import pytest
import shapely

from homography.fitting import calibrate_camera
from homography.projection import to_floor, to_image
from simulator.rig import Pose, camera_depth_m
from station import NOTICE_TEXT_FIELDS, StationLayout

# For each camera, the zones it is placed to watch and the share of each zone's walkable
# floor it must see (feet in the image, in front of the camera, a person at least 40 px tall).
INTENDED_VIEWS = [
    ("concourse-west", {"concourse-west": 0.55, "shop-front": 0.45}),
    ("gates-outside", {"ticket-gates": 0.9, "stairs-landing": 0.8}),
    ("gates-inside", {"ticket-gates": 0.9, "stairs-landing": 0.9}),
    ("platform-west", {"platform-west": 0.5}),
    ("platform-stairs", {"platform-stairs": 0.9}),
    ("platform-east", {"platform-east": 0.6}),
]
MIN_PERSON_PX = 40.0


def _floor_samples(layout: StationLayout, floor_id: str) -> np.ndarray:
    floor = layout.floor(floor_id)
    xs, ys = np.meshgrid(np.arange(0.25, floor.size_m[0], 0.5), np.arange(0.25, floor.size_m[1], 0.5))
    points = np.column_stack((xs.ravel(), ys.ravel()))
    return points[shapely.contains_xy(floor.walkable, points[:, 0], points[:, 1])]


def _seen(layout: StationLayout, camera_id: str, points: np.ndarray) -> np.ndarray:
    camera = layout.camera(camera_id)
    calib = calibrate_camera(camera)
    model = camera.calibration.camera_model
    pose = Pose(rvec=np.asarray(model.rvec), tvec_m=np.asarray(model.tvec_m))
    pixels = to_image(points_m=points, calib=calib)
    depth = camera_depth_m(points_m=points, height_m=0.0, pose=pose)
    width, height = camera.resolution_wh
    tall_px = model.camera_matrix[1][1] * 1.7 / np.maximum(depth, 1e-6)
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < width) & (pixels[:, 1] >= 0) & (pixels[:, 1] < height)
    return inside & (depth > 0.5) & (tall_px >= MIN_PERSON_PX)


def test_demo_station_is_a_simulated_two_floor_station(demo_layout: StationLayout) -> None:
    assert demo_layout.station.id == "demo-station"
    assert demo_layout.station.simulated is True
    assert [floor.id for floor in demo_layout.floors] == ["concourse", "platform"]
    assert len(demo_layout.zones) >= 6
    assert {zone.kind for zone in demo_layout.zones} == {"walkway", "queuing"}
    assert {zone.floor for zone in demo_layout.zones} == {"concourse", "platform"}
    for field in NOTICE_TEXT_FIELDS:
        text = getattr(demo_layout.notice, field)
        assert text.ja and text.en


@pytest.mark.parametrize(
    ("floor_id", "kinds"),
    [
        ("concourse", {"gates", "shop", "stairs", "escalator", "exit"}),
        ("platform", {"track", "platform-edge", "stairs", "escalator"}),
    ],
)
def test_floors_have_the_features_to_draw(demo_layout: StationLayout, floor_id: str, kinds: set[str]) -> None:
    present = {feature.kind for feature in demo_layout.floor(floor_id).features}
    assert kinds <= present


def test_cameras_are_simulated_hd_pinhole_cameras(demo_layout: StationLayout) -> None:
    assert len(demo_layout.cameras) >= 4
    assert {camera.floor for camera in demo_layout.cameras} == {"concourse", "platform"}
    for camera in demo_layout.cameras:
        assert camera.source == "sim"
        assert tuple(camera.resolution_wh) in {(1280, 720), (1920, 1080)}
        assert camera.calibration.camera_model is not None


@pytest.mark.parametrize(("camera_id", "zone_shares"), INTENDED_VIEWS)
def test_each_camera_sees_the_zones_it_is_placed_for(
    demo_layout: StationLayout, camera_id: str, zone_shares: dict[str, float]
) -> None:
    camera = demo_layout.camera(camera_id)
    points = _floor_samples(demo_layout, camera.floor)
    seen = _seen(demo_layout, camera_id, points)
    for zone_id, share in zone_shares.items():
        zone = next(z for z in demo_layout.zones if z.id == zone_id)
        in_zone = shapely.contains_xy(zone.polygon, points[:, 0], points[:, 1])
        assert seen[in_zone].mean() >= share, f"{camera_id} sees {seen[in_zone].mean():.2f} of {zone_id}"


@pytest.mark.parametrize(
    ("camera_a", "camera_b", "min_overlap_m2"),
    [("gates-outside", "gates-inside", 100.0), ("platform-west", "platform-stairs", 30.0)],
)
def test_cameras_overlap_somewhere(
    demo_layout: StationLayout, camera_a: str, camera_b: str, min_overlap_m2: float
) -> None:
    points = _floor_samples(demo_layout, demo_layout.camera(camera_a).floor)
    both = _seen(demo_layout, camera_a, points) & _seen(demo_layout, camera_b, points)
    assert both.sum() * 0.25 >= min_overlap_m2


@pytest.mark.parametrize("camera_id", [camera_id for camera_id, _ in INTENDED_VIEWS])
def test_calibrations_round_trip_between_floor_and_image(demo_layout: StationLayout, camera_id: str) -> None:
    camera = demo_layout.camera(camera_id)
    points = _floor_samples(demo_layout, camera.floor)
    seen = _seen(demo_layout, camera_id, points)
    calib = calibrate_camera(camera)
    back, valid = to_floor(points_px=to_image(points_m=points[seen], calib=calib), calib=calib)
    assert valid.all()
    np.testing.assert_allclose(back, points[seen], atol=1e-6)


@pytest.mark.parametrize("camera_id", [camera_id for camera_id, _ in INTENDED_VIEWS])
def test_cameras_hang_between_3_5_and_5_m_and_look_down(demo_layout: StationLayout, camera_id: str) -> None:
    model = demo_layout.camera(camera_id).calibration.camera_model
    rotation, _ = cv2.Rodrigues(np.asarray(model.rvec, dtype=np.float64))
    centre = -rotation.T @ np.asarray(model.tvec_m)
    # z points into the floor in the demo's world frame, so a camera above it has negative z.
    assert 3.5 <= -centre[2] <= 5.0
    optical_axis = rotation[2]
    assert optical_axis[2] > 0.1  # tilted towards the floor
