"""Placing simulated cameras: look_at gives a pose whose optical axis hits the target."""

import cv2
import numpy as np
import pytest

from simulator.rig import camera_depth_m, intrinsics, look_at


@pytest.mark.parametrize(
    ("position_m", "height_m", "target_m"),
    [((0.0, 0.0), 4.0, (10.0, 5.0)), ((50.0, 20.0), 4.5, (30.0, 10.0)), ((3.0, 9.0), 3.5, (3.0, 20.0))],
)
def test_target_lands_on_the_image_centre(position_m, height_m, target_m) -> None:
    pose = look_at(position_m=position_m, height_m=height_m, target_m=target_m)
    matrix = intrinsics(resolution_wh=(1280, 720), horizontal_fov_deg=70.0)
    pixel, _ = cv2.projectPoints(np.array([[*target_m, 0.0]]), pose.rvec, pose.tvec_m, matrix, None)
    np.testing.assert_allclose(pixel.reshape(2), [640.0, 360.0], atol=1e-6)
    rotation, _ = cv2.Rodrigues(pose.rvec)
    centre = -rotation.T @ pose.tvec_m
    np.testing.assert_allclose(centre, [*position_m, -height_m], atol=1e-9)
    assert np.linalg.det(rotation) == pytest.approx(1.0)


def test_a_point_left_of_the_view_is_left_in_the_image() -> None:
    # Looking east along y = 10 (y points down the plan), north (smaller y) is on the left.
    pose = look_at(position_m=(0.0, 10.0), height_m=4.0, target_m=(20.0, 10.0))
    matrix = intrinsics(resolution_wh=(1280, 720), horizontal_fov_deg=70.0)
    pixel, _ = cv2.projectPoints(np.array([[20.0, 8.0, 0.0]]), pose.rvec, pose.tvec_m, matrix, None)
    assert pixel.reshape(2)[0] < 640.0


def test_depth_is_negative_behind_the_camera() -> None:
    pose = look_at(position_m=(10.0, 10.0), height_m=4.0, target_m=(20.0, 10.0))
    depth = camera_depth_m(points_m=np.array([[20.0, 10.0], [0.0, 10.0]]), height_m=0.0, pose=pose)
    assert depth[0] > 0 > depth[1]


@pytest.mark.parametrize(
    ("height_m", "target_m", "message"),
    [(0.0, (5.0, 0.0), "height_m must be positive"), (4.0, (0.0, 0.0), "straight below")],
)
def test_bad_placements_are_refused(height_m, target_m, message) -> None:
    with pytest.raises(ValueError, match=message):
        look_at(position_m=(0.0, 0.0), height_m=height_m, target_m=target_m)
