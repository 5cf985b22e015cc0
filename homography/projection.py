"""Moving points between a camera's image and its floor plan through a :class:`Calibration`.

Image points are raw camera pixels (lens distortion included); floor points are plan metres.
Points on or above the horizon, behind the camera or beyond the plan come back invalid, never as
absurd positions. Pure functions over numpy and OpenCV's point routines: no files, no clocks.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from homography.calibration import Calibration, CalibrationError
from station import Floor

# The homography's denominator (w) at a point shrinks to zero on the horizon line; points this
# close to it or beyond it would land absurdly far away, so they are rejected.
MIN_DENOMINATOR = 1e-9
# How far beyond the plan's edge a projected point may land and still count: a person at the
# edge of the plan with a typical foot-point error.
PLAN_MARGIN_M = 0.5


def as_points(array: npt.ArrayLike, name: str) -> np.ndarray:
    """``array`` as float points ``(n, 2)``; ``(0, 2)`` when empty.

    Raises:
        CalibrationError: naming ``name`` and the shape that arrived.
    """
    points = np.asarray(array, dtype=np.float64)
    if points.size == 0:
        return points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise CalibrationError(f"{name} must have shape (n, 2), got {points.shape}")
    return points


def apply_homography(*, points: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map points ``(n, 2)`` through a 3x3 homography.

    Returns:
        The mapped points ``(n, 2)`` and the homogeneous denominator ``w`` ``(n,)``, whose sign
        tells which side of the horizon each point lies on.
    """
    # Column arithmetic instead of stacking a homogeneous (n, 3) copy: a third of the memory traffic.
    u, v = points[:, 0], points[:, 1]
    x = matrix[0, 0] * u + matrix[0, 1] * v + matrix[0, 2]
    y = matrix[1, 0] * u + matrix[1, 1] * v + matrix[1, 2]
    w = matrix[2, 0] * u + matrix[2, 1] * v + matrix[2, 2]
    safe = np.where(np.abs(w) < MIN_DENOMINATOR, np.nan, w)
    out = np.empty((len(points), 2))
    np.divide(x, safe, out=out[:, 0])
    np.divide(y, safe, out=out[:, 1])
    return out, w


def undistort_px(*, points_px: np.ndarray, calib: Calibration) -> np.ndarray:
    """Remove lens distortion from pixel points ``(n, 2)`` (identity without intrinsics)."""
    points = np.asarray(points_px, dtype=np.float64)
    intrinsics, coeffs = calib.camera_matrix, calib.dist_coeffs
    if intrinsics is None or coeffs is None or len(points) == 0 or not np.any(coeffs):
        return points
    undistorted = cv2.undistortPointsIter(
        points.reshape(-1, 1, 2),
        intrinsics,
        coeffs,
        np.eye(3),
        intrinsics,
        # OpenCV's default 5 iterations leave pixel-sized errors at the corners of wide lenses.
        (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-9),
    )
    return np.asarray(undistorted).reshape(-1, 2)


def distort_px(*, points_px: np.ndarray, calib: Calibration) -> np.ndarray:
    """Apply lens distortion to undistorted pixel points ``(n, 2)`` (identity without intrinsics).

    The inverse of :func:`undistort_px`: use it to draw floor points onto the camera's raw image.
    """
    points = np.asarray(points_px, dtype=np.float64)
    if calib.camera_matrix is None or len(points) == 0 or not np.any(calib.dist_coeffs):
        return points
    normalised = np.column_stack((points, np.ones(len(points)))) @ np.linalg.inv(calib.camera_matrix).T
    distorted, _ = cv2.projectPoints(
        normalised.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), calib.camera_matrix, calib.dist_coeffs
    )
    return distorted.reshape(-1, 2)


def inside_plan(*, points_m: np.ndarray, floor: Floor, margin_m: float = PLAN_MARGIN_M) -> np.ndarray:
    """Which floor points ``(n, 2)`` lie on the plan, up to ``margin_m`` beyond its edge (``(n,)`` bool)."""
    width, height = floor.size_m
    with np.errstate(invalid="ignore"):
        return (
            (points_m[:, 0] >= -margin_m)
            & (points_m[:, 0] <= width + margin_m)
            & (points_m[:, 1] >= -margin_m)
            & (points_m[:, 1] <= height + margin_m)
        )


def to_floor(
    *,
    points_px: npt.ArrayLike,
    calib: Calibration,
    floor: Floor | None = None,
    margin_m: float = PLAN_MARGIN_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Project image points (raw, as the camera delivers them) onto the floor.

    Args:
        points_px: Image points ``(n, 2)``, pixels, lens distortion included.
        calib: The camera's calibration.
        floor: When given, points landing more than ``margin_m`` beyond its plan are invalid.
        margin_m: Tolerance beyond the plan's edge, metres.

    Returns:
        Floor points ``(n, 2)`` in metres (NaN where invalid) and a validity mask ``(n,)``: False
        for non-finite input, points on or above the horizon (whose projection would lie behind
        the camera) and, with ``floor``, points beyond the plan.
    """
    points = as_points(points_px, "points_px")
    if len(points) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=bool)
    finite = np.isfinite(points[:, 0]) & np.isfinite(points[:, 1])
    undistorted = undistort_px(
        points_px=points if finite.all() else np.where(finite[:, None], points, 0.0), calib=calib
    )
    projected, w = apply_homography(points=undistorted, matrix=calib.image_to_floor)
    # A finite w of the floor side's sign, at least MIN_DENOMINATOR from zero, gives a finite point.
    valid = finite & (w * calib.horizon_sign >= MIN_DENOMINATOR)
    if floor is not None:
        valid &= inside_plan(points_m=projected, floor=floor, margin_m=margin_m)
    return np.where(valid[:, None], projected, np.nan), valid


def to_image(*, points_m: npt.ArrayLike, calib: Calibration, distorted: bool = False) -> np.ndarray:
    """Project floor points ``(n, 2)`` into image pixels ``(n, 2)``.

    Args:
        points_m: Floor points in metres.
        calib: The camera's calibration.
        distorted: True to apply the lens distortion (pixels of the raw image), False for
            undistorted pixels.

    Returns:
        Pixels; NaN for floor points behind the camera.
    """
    points = as_points(points_m, "points_m")
    if len(points) == 0:
        return np.zeros((0, 2))
    image, w = apply_homography(points=points, matrix=calib.floor_to_image)
    # image_to_floor maps the pixel image/w back to the floor point with denominator 1/w, so a
    # floor point is in front of the camera exactly when w has the floor side's sign.
    image = np.where((np.sign(w) == calib.horizon_sign)[:, None], image, np.nan)
    if distorted:
        finite = np.all(np.isfinite(image), axis=1)
        image[finite] = distort_px(points_px=image[finite], calib=calib)
    return image


def local_scale_m_per_px(*, points_px: np.ndarray, calib: Calibration) -> np.ndarray:
    """Floor metres spanned by one undistorted pixel at each point ``(n, 2)``.

    The largest singular value of the homography's Jacobian; infinite on or above the horizon.
    """
    if len(points_px) == 0:
        return np.zeros(0)
    matrix = calib.image_to_floor
    homogeneous = np.column_stack((points_px, np.ones(len(points_px)))) @ matrix.T
    w = homogeneous[:, 2]
    # d(num / w) = (A w - num h^T) / w^2 with A the top-left 2x2 block and h the last row's first two.
    jacobian = (matrix[None, :2, :2] * w[:, None, None] - homogeneous[:, :2, None] * matrix[None, 2, None, :2]) / (
        w**2
    )[:, None, None]
    with np.errstate(invalid="ignore"):
        scale = np.linalg.svd(jacobian, compute_uv=False)[:, 0]
    on_floor = (np.sign(w) == calib.horizon_sign) & np.isfinite(scale)
    return np.where(on_floor, scale, np.inf)


def floor_sigma_m(*, points_px: np.ndarray, calib: Calibration, pixel_sigma_px: float) -> np.ndarray:
    """Expected floor error ``(n,)`` in metres for a pixel error of ``pixel_sigma_px`` at each point.

    Args:
        points_px: Undistorted pixel points ``(n, 2)``.
        calib: The camera's calibration.
        pixel_sigma_px: Expected foot-point error in pixels.

    Returns:
        ``pixel_sigma_px`` times the local metres per pixel, so far points, where one pixel spans
        more floor, get a larger error; at least 1 mm, and 1 km for points that do not map to the floor.
    """
    if len(points_px) == 0:
        return np.zeros(0)
    sigma = pixel_sigma_px * local_scale_m_per_px(points_px=np.asarray(points_px, dtype=np.float64), calib=calib)
    return np.where(np.isfinite(sigma), np.maximum(sigma, 1e-3), 1e3)
