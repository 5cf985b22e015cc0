from contextlib import nullcontext as does_not_raise

import cv2
import numpy as np
import pytest

from homography.calibration import (
    Calibration,
    CalibrationError,
    calibrate_camera,
    distort_px,
    fit_calibration,
    floor_sigma_m,
    to_floor,
    to_image,
    undistort_px,
)
from homography.pose import camera_centre_m
from homography.wildtrack import load_wildtrack_camera
from station import CalibrationSpec, Camera, load_layout
from tests.homography.conftest import (
    PETS,
    PETS_LAYOUT,
    WILDTRACK,
    make_floor,
    pets_ground_truth,
    wildtrack_calibration,
)

RESOLUTION_WH = (768, 576)
PETS_H = np.loadtxt(PETS / "calibration" / "H_image_to_ground_m_View001.txt")
# Eight pixels spread over the lower image (the floor) and their floor points through PETS_H.
GRID_PX = np.array(
    [[60, 250], [380, 220], [700, 240], [100, 400], [400, 380], [680, 420], [200, 540], [600, 560]], dtype=float
)


def _floor_of(points_px: np.ndarray, matrix: np.ndarray = PETS_H) -> np.ndarray:
    homogeneous = np.column_stack((points_px, np.ones(len(points_px)))) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:]


GRID_M = _floor_of(GRID_PX)


def _with(points: np.ndarray, index: int, value: list[float]) -> np.ndarray:
    out = points.copy()
    out[index] = value
    return out


@pytest.mark.parametrize(
    ("image_px", "floor_m", "max_error_m", "expectation"),
    [
        (GRID_PX, GRID_M, 0.5, does_not_raise()),
        (GRID_PX[:4], GRID_M[:4], 0.5, does_not_raise()),
        (GRID_PX[:3], GRID_M[:3], 0.5, pytest.raises(CalibrationError, match="at least 4 point pairs, got 3")),
        (GRID_PX[:5], GRID_M[:4], 0.5, pytest.raises(CalibrationError, match="must pair up")),
        (
            _with(GRID_PX, 1, [60, 250]),
            GRID_M,
            0.5,
            pytest.raises(CalibrationError, match="image_px contains duplicate"),
        ),
        (
            GRID_PX,
            _with(GRID_M, 2, list(GRID_M[0])),
            0.5,
            pytest.raises(CalibrationError, match="floor_m contains dup"),
        ),
        (
            np.array([[0, 300], [100, 310], [200, 320], [300, 330], [400, 340]], dtype=float),
            GRID_M[:5],
            0.5,
            pytest.raises(CalibrationError, match="image_px points are collinear"),
        ),
        (
            np.array([[100, 300], [300, 350], [500, 400], [400, 550]], dtype=float),
            GRID_M[:4],
            0.5,
            pytest.raises(CalibrationError, match=r"points \[0, 1, 2\] are collinear"),
        ),
        (
            _with(GRID_PX, 3, [np.nan, 10]),
            GRID_M,
            0.5,
            pytest.raises(CalibrationError, match=r"points \[3\] contain NaN"),
        ),
        (GRID_PX, _with(GRID_M, 0, [np.inf, 0]), 0.5, pytest.raises(CalibrationError, match="floor_m points")),
        (
            _with(GRID_PX, 5, [900, 100]),
            GRID_M,
            0.5,
            pytest.raises(CalibrationError, match=r"\[5\] lie outside the 768x576"),
        ),
        (_with(GRID_PX, 4, [-1, 100]), GRID_M, 0.5, pytest.raises(CalibrationError, match="outside")),
        # Pixels shifted by 25 px: the floor there is metres away from the given points.
        (
            GRID_PX + [[25, 25]] * 8 * np.array([[1], [-1]] * 4),
            GRID_M,
            0.05,
            pytest.raises(CalibrationError, match="RMS"),
        ),
        # Two pairs swapped: the fit folds the plan over, putting points behind the camera.
        (
            GRID_PX[[0, 1, 2, 3]],
            GRID_M[[0, 1, 3, 2]],
            0.5,
            pytest.raises(CalibrationError, match="above the fitted horizon"),
        ),
    ],
)
def test_fit_calibration_checks_its_points(image_px, floor_m, max_error_m, expectation) -> None:
    with expectation:
        calib = fit_calibration(
            image_px=image_px, floor_m=floor_m, resolution_wh=RESOLUTION_WH, max_error_m=max_error_m
        )
        assert calib.rms_error_m < 1e-6
        np.testing.assert_allclose(calib.image_to_floor, PETS_H / PETS_H[2, 2], rtol=1e-5, atol=1e-8)


def test_exact_points_give_zero_residuals_and_leave_one_out_errors() -> None:
    calib = fit_calibration(image_px=GRID_PX, floor_m=GRID_M, resolution_wh=RESOLUTION_WH)
    assert calib.residuals_m.shape == (8,)
    assert calib.loo_errors_m.shape == (8,)
    assert calib.max_error_m < 1e-6
    assert calib.loo_rms_error_m < 1e-5


def test_four_pairs_have_no_leave_one_out() -> None:
    calib = fit_calibration(image_px=GRID_PX[:4], floor_m=GRID_M[:4], resolution_wh=RESOLUTION_WH)
    assert calib.loo_errors_m.shape == (0,)
    assert np.isnan(calib.loo_rms_error_m)


def test_one_misclicked_pair_stands_out_instead_of_bending_the_fit() -> None:
    image = _with(GRID_PX, 4, list(GRID_PX[4] + [40.0, -30.0]))
    calib = fit_calibration(image_px=image, floor_m=GRID_M, resolution_wh=RESOLUTION_WH, max_error_m=2.0)
    others = np.delete(calib.residuals_m, 4)
    assert calib.residuals_m[4] > 0.5
    assert others.max() < 0.01
    with pytest.raises(CalibrationError, match=r"worst points: #4"):
        fit_calibration(image_px=image, floor_m=GRID_M, resolution_wh=RESOLUTION_WH, max_error_m=0.1)


@pytest.mark.parametrize("seed", range(5))
def test_six_clicked_points_on_pets_match_the_official_calibration(seed: int) -> None:
    foot_px, ground_m = pets_ground_truth()
    # Six well-spread pairs: farthest-point sampling over the annotated foot points.
    chosen = [int(np.argmax(foot_px[:, 1]))]
    nearest = np.linalg.norm(foot_px - foot_px[chosen[0]], axis=1)
    while len(chosen) < 6:
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, np.linalg.norm(foot_px - foot_px[chosen[-1]], axis=1))
    clicks = foot_px[chosen] + np.random.default_rng(seed).normal(0.0, 2.0, size=(6, 2))
    # The farthest pairs lie ~20 m away, where a 2 px slip spans a metre: hence the 1 m limit.
    calib = fit_calibration(image_px=clicks, floor_m=ground_m[chosen], resolution_wh=RESOLUTION_WH, max_error_m=1.0)
    projected, valid = to_floor(points_px=foot_px, calib=calib)
    assert valid.all()
    assert np.median(np.linalg.norm(projected - ground_m, axis=1)) <= 0.15


@pytest.mark.parametrize(
    ("matrix", "expectation"),
    [
        (PETS_H, does_not_raise()),
        (np.eye(3), does_not_raise()),
        (np.array([[1.0, 0, 0], [0, 1, 0], [1, 1, 0]]), pytest.raises(CalibrationError, match="near-singular")),
        (np.array([[1.0, 2, 3], [2, 4, 6], [0, 0, 1]]), pytest.raises(CalibrationError, match="near-singular")),
        (np.array([[1.0, 2, 3], [2, 4.0000000001, 6], [0, 0, 1]]), pytest.raises(CalibrationError, match="near-sing")),
        (np.full((3, 3), np.nan), pytest.raises(CalibrationError, match="finite")),
        (np.eye(2), pytest.raises(CalibrationError, match=r"shape \(3, 3\)")),
    ],
)
def test_calibration_rejects_bad_matrices(matrix, expectation) -> None:
    with expectation:
        Calibration(matrix, RESOLUTION_WH)


def test_to_floor_marks_horizon_plan_and_nan_points_invalid() -> None:
    calib = Calibration(PETS_H, RESOLUTION_WH)
    # The horizon is the image line where the homography's last row vanishes; go 5 px above it.
    h31, h32, h33 = calib.image_to_floor[2]
    above_v = -(h31 * 384 + h33) / h32 - 5.0
    points = np.array([[384.0, 500.0], [384.0, above_v], [np.nan, 10.0], [384.0, 300.0]])
    xy, valid = to_floor(points_px=points, calib=calib)
    assert valid.tolist() == [True, False, False, True]
    assert np.isnan(xy[1]).all() and np.isnan(xy[2]).all()
    # A 1 m x 1 m plan around the first point keeps only it.
    centre = _floor_of(points[:1])[0]
    plan = make_floor(1.0, 1.0)
    calib_shifted = Calibration(
        np.array([[1, 0, 0.5 - centre[0]], [0, 1, 0.5 - centre[1]], [0, 0, 1]]) @ PETS_H, RESOLUTION_WH
    )
    _, on_plan = to_floor(points_px=points, calib=calib_shifted, floor=plan, margin_m=0.0)
    assert on_plan.tolist() == [True, False, False, False]


def test_to_floor_of_nothing_is_empty() -> None:
    xy, valid = to_floor(points_px=np.zeros((0, 2)), calib=Calibration(PETS_H, RESOLUTION_WH))
    assert xy.shape == (0, 2) and valid.shape == (0,)


def test_to_image_inverts_to_floor() -> None:
    calib = Calibration(PETS_H, RESOLUTION_WH)
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
    calib = Calibration(PETS_H, RESOLUTION_WH)
    sigma = floor_sigma_m(
        points_px=np.array([[384.0, 560.0], [384.0, 300.0], [384.0, 180.0]]), calib=calib, pixel_sigma_px=2.0
    )
    assert np.all(np.diff(sigma) > 0)
    assert sigma[0] < 0.1 < sigma[2]


def test_calibrate_camera_names_the_bad_camera() -> None:
    layout = load_layout(PETS_LAYOUT)
    camera = layout.cameras[0]
    assert calibrate_camera(camera).image_to_floor.shape == (3, 3)
    bad = camera.model_copy(
        update={
            "calibration": camera.calibration.model_copy(update={"image_to_floor": ((1, 0, 0), (0, 1, 0), (1, 1, 0))})
        }
    )
    with pytest.raises(CalibrationError, match=r"camera 'view-001': image_to_floor is near-singular"):
        calibrate_camera(bad)


def _camera_with_model(model) -> Camera:
    return Camera(
        id="cvlab1",
        floor="square",
        source="sim",
        resolution_wh=(1920, 1080),
        calibration=CalibrationSpec(camera_model=model),
    )


def test_a_layout_camera_model_gives_the_exact_homography_and_its_3d_projection() -> None:
    model = load_wildtrack_camera(WILDTRACK, "CVLab1", undistorted=False)
    calib = calibrate_camera(_camera_with_model(model))
    expected = wildtrack_calibration("CVLab1", undistorted=False)
    np.testing.assert_allclose(calib.image_to_floor, expected.image_to_floor)
    assert calib.floor_to_image_3d is not None
    assert calib.dist_coeffs is not None and np.any(calib.dist_coeffs)
    # The camera hangs 2.9 m above the floor (WILDTRACK's world z points up).
    assert camera_centre_m(calib.floor_to_image_3d)[2] == pytest.approx(2.89, abs=0.01)


def test_a_camera_model_looking_at_the_sky_fails_with_its_name() -> None:
    model = load_wildtrack_camera(WILDTRACK, "CVLab1")
    # Turn the camera upside down about its optical axis: the image bottom now sees the sky.
    rotation, _ = cv2.Rodrigues(np.asarray(model.rvec))
    flipped, _ = cv2.Rodrigues(np.diag([-1.0, -1.0, 1.0]) @ rotation)
    translation = np.diag([-1.0, -1.0, 1.0]) @ np.asarray(model.tvec_m)
    upside_down = model.model_copy(update={"rvec": tuple(flipped.ravel()), "tvec_m": tuple(translation)})
    with pytest.raises(CalibrationError, match="camera 'cvlab1': the camera model does not see the floor"):
        calibrate_camera(_camera_with_model(upside_down))
