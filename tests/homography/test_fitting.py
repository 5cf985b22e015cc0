"""Building a calibration (``homography.fitting``): point pairs checked and fitted, camera models, layout cameras."""

from contextlib import nullcontext as does_not_raise

import cv2
import numpy as np
import pytest

from homography.calibration import CalibrationError
from homography.fitting import calibrate_camera, fit_calibration
from homography.pose import camera_centre_m
from homography.projection import to_floor
from homography.wildtrack import load_wildtrack_camera
from station import CalibrationSpec, Camera, bundled, load_layout
from tests.homography.conftest import (
    GRID_M,
    GRID_PX,
    PETS_H,
    PETS_LAYOUT,
    PETS_RESOLUTION_WH,
    WILDTRACK,
    pets_ground_truth,
    wildtrack_calibration,
)

DEMO_STATION = bundled("demo-station")


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
            image_px=image_px, floor_m=floor_m, resolution_wh=PETS_RESOLUTION_WH, max_error_m=max_error_m
        )
        assert calib.rms_error_m < 1e-6
        np.testing.assert_allclose(calib.image_to_floor, PETS_H / PETS_H[2, 2], rtol=1e-5, atol=1e-8)


def test_exact_points_give_zero_residuals_and_leave_one_out_errors() -> None:
    calib = fit_calibration(image_px=GRID_PX, floor_m=GRID_M, resolution_wh=PETS_RESOLUTION_WH)
    assert calib.residuals_m.shape == (8,)
    assert calib.loo_errors_m.shape == (8,)
    assert calib.max_error_m < 1e-6
    assert calib.loo_rms_error_m < 1e-5


def test_four_pairs_have_no_leave_one_out() -> None:
    calib = fit_calibration(image_px=GRID_PX[:4], floor_m=GRID_M[:4], resolution_wh=PETS_RESOLUTION_WH)
    assert calib.loo_errors_m.shape == (0,)
    assert np.isnan(calib.loo_rms_error_m)


def test_one_misclicked_pair_stands_out_instead_of_bending_the_fit() -> None:
    image = _with(GRID_PX, 4, list(GRID_PX[4] + [40.0, -30.0]))
    calib = fit_calibration(image_px=image, floor_m=GRID_M, resolution_wh=PETS_RESOLUTION_WH, max_error_m=2.0)
    others = np.delete(calib.residuals_m, 4)
    assert calib.residuals_m[4] > 0.5
    assert others.max() < 0.01
    with pytest.raises(CalibrationError, match=r"worst points: #4"):
        fit_calibration(image_px=image, floor_m=GRID_M, resolution_wh=PETS_RESOLUTION_WH, max_error_m=0.1)


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
    calib = fit_calibration(
        image_px=clicks, floor_m=ground_m[chosen], resolution_wh=PETS_RESOLUTION_WH, max_error_m=1.0
    )
    projected, valid = to_floor(points_px=foot_px, calib=calib)
    assert valid.all()
    assert np.median(np.linalg.norm(projected - ground_m, axis=1)) <= 0.15


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


def test_pairs_from_a_camera_that_sees_past_the_horizon_fit() -> None:
    """A camera looking along a long concourse sees above the floor's horizon at its top left.

    The fitted matrix's scale then flips the sign of its denominator against the normalised one
    the horizon's side is taken from: the check must compare like with like, or every correct
    pair is refused as "above the fitted horizon".
    """
    layout = load_layout(DEMO_STATION)
    camera = layout.camera("gates-inside")
    exact = calibrate_camera(camera)
    corner_w = exact.image_to_floor[2] @ np.array([0.0, 0.0, 1.0])
    assert np.sign(corner_w) != exact.horizon_sign, "the image's top-left corner lies above the horizon"
    floor_m = np.array(
        [[27.6, 17.6], [55.6, 5.6], [55.6, 23.6], [47.6, 10.0], [47.6, 19.55], [60.0, 12.0], [60.0, 17.0]]
    )
    to_image = np.linalg.inv(exact.image_to_floor)
    image = (to_image @ np.column_stack([floor_m, np.ones(len(floor_m))]).T).T
    image_px = image[:, :2] / image[:, 2:]
    fitted = fit_calibration(image_px=image_px, floor_m=floor_m, resolution_wh=camera.resolution_wh)
    assert fitted.rms_error_m < 1e-3
