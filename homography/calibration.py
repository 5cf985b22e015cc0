"""The calibration of one camera: how its pixels map onto its floor's plan, checked when built.

A :class:`Calibration` holds an image-to-floor homography (with optional lens intrinsics and a 3D
projection) and refuses to exist when the matrix cannot be trusted (non-finite, near-singular).
Building one from point pairs, a matrix or a camera model is :mod:`homography.fitting`; using one
to move points between image and floor is :mod:`homography.projection`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from arrays import readonly_array

# Below this normalised determinant (|det| over the product of row norms, after centring the
# image and the floor), the matrix squeezes the image towards a line: a degenerate calibration.
MIN_HADAMARD_RATIO = 1e-9


class CalibrationError(ValueError):
    """A calibration cannot be trusted: too few or degenerate points, too large an error."""


@dataclass(frozen=True)
class Calibration:
    """How one camera's pixels map onto its floor's plan.

    Attributes:
        image_to_floor: 3x3 homography from undistorted pixels to plan metres.
        resolution_wh: Image size in pixels.
        camera_matrix: 3x3 intrinsics, when points are undistorted before the homography.
        dist_coeffs: OpenCV distortion coefficients, with ``camera_matrix``.
        residuals_m: Per point pair, the distance in metres between the fitted projection
            and the given floor point (empty when the matrix was given directly).
        loo_errors_m: Per point pair, the error when that pair is left out of the fit (NaN where
            the remaining pairs cannot be fitted; empty for 4 pairs or a given matrix).
        floor_to_image_3d: Optional ``(3, 4)`` projection of floor points with height up
            ``(x_m, y_m, height_m, 1)`` to undistorted pixels, known when the calibration came
            from a full camera model.
    """

    image_to_floor: np.ndarray
    resolution_wh: tuple[int, int]
    camera_matrix: np.ndarray | None = None
    dist_coeffs: np.ndarray | None = None
    residuals_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loo_errors_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    floor_to_image_3d: np.ndarray | None = None

    def __post_init__(self) -> None:
        width, height = self.resolution_wh
        if width <= 0 or height <= 0:
            raise CalibrationError(f"resolution_wh must be positive, got {self.resolution_wh}")
        object.__setattr__(self, "resolution_wh", (int(width), int(height)))
        matrix = np.array(self.image_to_floor, dtype=np.float64)
        if matrix.shape != (3, 3):
            raise CalibrationError(f"image_to_floor must have shape (3, 3), got {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise CalibrationError("image_to_floor must be finite, got NaN or infinity")
        ratio = _hadamard_ratio(matrix, self.resolution_wh)
        if not ratio >= MIN_HADAMARD_RATIO:
            raise CalibrationError(
                f"image_to_floor is near-singular (normalised determinant {ratio:.3g} < {MIN_HADAMARD_RATIO:g})"
            )
        matrix = matrix / matrix[2, 2] if abs(matrix[2, 2]) > 1e-12 else matrix / np.linalg.norm(matrix)
        matrix.flags.writeable = False
        object.__setattr__(self, "image_to_floor", matrix)
        if (self.camera_matrix is None) != (self.dist_coeffs is None):
            raise CalibrationError("camera_matrix and dist_coeffs must be given together")
        if self.camera_matrix is not None:
            intrinsics = np.asarray(self.camera_matrix, dtype=np.float64)
            if intrinsics.shape != (3, 3) or not np.all(np.isfinite(intrinsics)):
                raise CalibrationError(f"camera_matrix must be a finite 3x3 matrix, got shape {intrinsics.shape}")
            coeffs = np.asarray(self.dist_coeffs, dtype=np.float64).ravel()
            if coeffs.size not in (4, 5, 8, 12, 14) or not np.all(np.isfinite(coeffs)):
                raise CalibrationError(f"dist_coeffs must hold 4, 5, 8, 12 or 14 finite values, got {coeffs.size}")
            object.__setattr__(self, "camera_matrix", readonly_array(intrinsics, "camera_matrix", (3,)))
            object.__setattr__(self, "dist_coeffs", readonly_array(coeffs, "dist_coeffs", ()))
        if self.floor_to_image_3d is not None:
            projection = np.asarray(self.floor_to_image_3d, dtype=np.float64)
            if projection.shape != (3, 4) or not np.all(np.isfinite(projection)):
                raise CalibrationError(f"floor_to_image_3d must be a finite 3x4 matrix, got shape {projection.shape}")
            object.__setattr__(self, "floor_to_image_3d", readonly_array(projection, "floor_to_image_3d", (4,)))
        residuals = np.asarray(self.residuals_m, dtype=np.float64).ravel()
        object.__setattr__(self, "residuals_m", readonly_array(residuals, "residuals_m", (), finite=False))
        # NaN marks a pair whose leave-one-out fit failed.
        loo = np.asarray(self.loo_errors_m, dtype=np.float64).ravel()
        object.__setattr__(self, "loo_errors_m", readonly_array(loo, "loo_errors_m", (), finite=False))

    @property
    def floor_to_image(self) -> np.ndarray:
        """3x3 homography from plan metres to undistorted pixels."""
        return np.linalg.inv(self.image_to_floor)

    @property
    def rms_error_m(self) -> float:
        """Root mean square of :attr:`residuals_m`; 0 when there are none."""
        return float(np.sqrt(np.mean(self.residuals_m**2))) if len(self.residuals_m) else 0.0

    @property
    def max_error_m(self) -> float:
        """Largest residual in metres; 0 when there are none."""
        return float(np.max(self.residuals_m)) if len(self.residuals_m) else 0.0

    @property
    def loo_rms_error_m(self) -> float:
        """Root mean square of the finite leave-one-out errors; NaN when there are none.

        Much larger than :attr:`rms_error_m` means the fit follows its points but not the floor
        between them: add points or spread them out.
        """
        finite = self.loo_errors_m[np.isfinite(self.loo_errors_m)]
        return float(np.sqrt(np.mean(finite**2))) if len(finite) else float("nan")

    @property
    def horizon_sign(self) -> float:
        """Sign of the homography's denominator on the floor side of the horizon.

        Taken at the image's bottom centre, which a CCTV camera always points at the floor.
        """
        reference = np.array([self.resolution_wh[0] / 2.0, self.resolution_wh[1] - 1.0, 1.0])
        w = float(self.image_to_floor[2] @ reference)
        return 1.0 if w >= 0 else -1.0


def _hadamard_ratio(matrix: np.ndarray, resolution_wh: tuple[int, int]) -> float:
    """``|det|`` over the product of row norms, with pixels and floor centred and scaled.

    1 for a rotation, 0 for a singular matrix; unlike the condition number it does not depend on
    the choice of pixel and metre units or on where the plan's origin lies.
    """
    width, height = resolution_wh
    scale = 2.0 / max(width, height)
    image_norm = np.array([[scale, 0.0, -scale * width / 2.0], [0.0, scale, -scale * height / 2.0], [0.0, 0.0, 1.0]])
    centred = matrix @ np.linalg.inv(image_norm)
    with np.errstate(all="ignore"):
        # Move the floor point seen at the image centre (if on the floor side) to the origin.
        centre = centred @ np.array([0.0, 0.0, 1.0])
        if abs(centre[2]) > 1e-12 * np.linalg.norm(centre):
            shift = centre[:2] / centre[2]
            centred = np.array([[1.0, 0.0, -shift[0]], [0.0, 1.0, -shift[1]], [0.0, 0.0, 1.0]]) @ centred
        norms = np.linalg.norm(centred, axis=1)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0):
            return 0.0
        return float(abs(np.linalg.det(centred)) / np.prod(norms))
