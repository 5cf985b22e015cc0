"""The calibration type (``homography.calibration``) refuses matrices it cannot trust."""

from contextlib import nullcontext as does_not_raise

import numpy as np
import pytest

from homography.calibration import Calibration, CalibrationError
from tests.homography.conftest import PETS_H, PETS_RESOLUTION_WH


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
        Calibration(matrix, PETS_RESOLUTION_WH)


K = np.array([[800.0, 0, 384], [0, 800, 288], [0, 0, 1]])


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({"camera_matrix": K, "dist_coeffs": np.zeros(5)}, does_not_raise()),
        ({"camera_matrix": K}, pytest.raises(CalibrationError, match="must be given together")),
        ({"dist_coeffs": np.zeros(5)}, pytest.raises(CalibrationError, match="must be given together")),
        ({"camera_matrix": K, "dist_coeffs": np.zeros(6)}, pytest.raises(CalibrationError, match="got 6")),
        (
            {"camera_matrix": K, "dist_coeffs": [0.1, np.nan, 0, 0]},
            pytest.raises(CalibrationError, match="4, 5, 8, 12 or 14 finite"),
        ),
        ({"camera_matrix": K[:2], "dist_coeffs": np.zeros(4)}, pytest.raises(CalibrationError, match="finite 3x3")),
        ({"floor_to_image_3d": np.zeros((3, 3))}, pytest.raises(CalibrationError, match=r"finite 3x4 .*\(3, 3\)")),
        ({"resolution_wh": (0, 576)}, pytest.raises(CalibrationError, match="resolution_wh must be positive")),
    ],
)
def test_calibration_checks_intrinsics_projection_and_resolution(kwargs, expectation) -> None:
    fields = {"image_to_floor": PETS_H, "resolution_wh": PETS_RESOLUTION_WH, **kwargs}
    with expectation:
        calib = Calibration(**fields)
        assert not calib.image_to_floor.flags.writeable
        assert calib.image_to_floor[2, 2] == pytest.approx(1.0)
