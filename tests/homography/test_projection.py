"""Moving points between image and floor (``homography.projection``): horizon, plan edge, lens distortion."""

import numpy as np
import pytest

from homography.calibration import Calibration
from homography.pose import camera_centre_m
from homography.projection import distort_px, floor_sigma_m, to_floor, to_image, undistort_px
from tests.homography.conftest import (
    GRID_M,
    GRID_PX,
    PETS_H,
    PETS_RESOLUTION_WH,
    floor_of,
    make_floor,
    wildtrack_calibration,
)


def test_to_floor_marks_horizon_plan_and_nan_points_invalid() -> None:
    calib = Calibration(PETS_H, PETS_RESOLUTION_WH)
    # The horizon is the image line where the homography's last row vanishes; go 5 px above it.
    h31, h32, h33 = calib.image_to_floor[2]
    above_v = -(h31 * 384 + h33) / h32 - 5.0
    points = np.array([[384.0, 500.0], [384.0, above_v], [np.nan, 10.0], [384.0, 300.0]])
    xy, valid = to_floor(points_px=points, calib=calib)
    assert valid.tolist() == [True, False, False, True]
    assert np.isnan(xy[1]).all() and np.isnan(xy[2]).all()
    # A 1 m x 1 m plan around the first point keeps only it.
    centre = floor_of(points[:1])[0]
    plan = make_floor(1.0, 1.0)
    calib_shifted = Calibration(
        np.array([[1, 0, 0.5 - centre[0]], [0, 1, 0.5 - centre[1]], [0, 0, 1]]) @ PETS_H, PETS_RESOLUTION_WH
    )
    _, on_plan = to_floor(points_px=points, calib=calib_shifted, floor=plan, margin_m=0.0)
    assert on_plan.tolist() == [True, False, False, False]


def test_to_floor_of_nothing_is_empty() -> None:
    xy, valid = to_floor(points_px=np.zeros((0, 2)), calib=Calibration(PETS_H, PETS_RESOLUTION_WH))
    assert xy.shape == (0, 2) and valid.shape == (0,)


def test_to_image_inverts_to_floor() -> None:
    calib = Calibration(PETS_H, PETS_RESOLUTION_WH)
    np.testing.assert_allclose(to_image(points_m=GRID_M, calib=calib), GRID_PX, atol=1e-6)


def test_to_image_hides_floor_points_behind_the_camera() -> None:
    calib = wildtrack_calibration("CVLab1")
    camera_xy = camera_centre_m(calib.floor_to_image_3d)[:2]
    (ahead,), _ = to_floor(points_px=[[960.0, 1000.0]], calib=calib)
    behind = camera_xy - 2.0 * (ahead - camera_xy)
    image = to_image(points_m=np.vstack((ahead, behind)), calib=calib)
    np.testing.assert_allclose(image[0], [960.0, 1000.0], atol=1e-6)
    assert np.isnan(image[1]).all()


@pytest.mark.parametrize("camera", ["CVLab1", "IDIAP2"])
def test_lens_distortion_round_trips(camera: str) -> None:
    calib = wildtrack_calibration(camera, undistorted=False)
    raw = np.array([[100.0, 900.0], [960.0, 540.0], [1800.0, 1000.0], [1500.0, 300.0]])
    back = distort_px(points_px=undistort_px(points_px=raw, calib=calib), calib=calib)
    np.testing.assert_allclose(back, raw, atol=0.05)


@pytest.mark.parametrize("camera", ["CVLab1", "CVLab3", "IDIAP1"])
def test_distorted_and_undistorted_models_agree_on_the_floor(camera: str) -> None:
    raw_calib = wildtrack_calibration(camera, undistorted=False)
    floor_points = np.array([[6.0, 18.0], [3.0, 12.0], [9.0, 24.0]])
    raw_px = to_image(points_m=floor_points, calib=raw_calib, distorted=True)
    seen = np.all(np.isfinite(raw_px), axis=1)
    back, valid = to_floor(points_px=raw_px[seen], calib=raw_calib)
    assert valid.all()
    np.testing.assert_allclose(back, floor_points[seen], atol=0.01)


def test_floor_sigma_grows_with_distance() -> None:
    calib = Calibration(PETS_H, PETS_RESOLUTION_WH)
    sigma = floor_sigma_m(
        points_px=np.array([[384.0, 560.0], [384.0, 300.0], [384.0, 180.0]]), calib=calib, pixel_sigma_px=2.0
    )
    assert np.all(np.diff(sigma) > 0)
    assert sigma[0] < 0.1 < sigma[2]
