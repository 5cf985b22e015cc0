"""Camera calibration: the image-to-floor homography of one camera, fitted and checked.

Pure functions over numpy and OpenCV's fitting routines: no files, no clocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from homography.layout import Camera, CalibrationSpec

MIN_POINT_PAIRS = 4
# The homography's denominator (w) at a point shrinks to zero on the horizon line; points this
# close to it or beyond it would land absurdly far away, so they are rejected.
MIN_DENOMINATOR = 1e-9


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
        loo_errors_m: Per point pair, the error when that pair is left out of the fit.
    """

    image_to_floor: np.ndarray
    resolution_wh: tuple[int, int]
    camera_matrix: np.ndarray | None = None
    dist_coeffs: np.ndarray | None = None
    residuals_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loo_errors_m: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        matrix = np.array(self.image_to_floor, dtype=np.float64)
        if matrix.shape != (3, 3):
            raise CalibrationError(f"image_to_floor must have shape (3, 3), got {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise CalibrationError("image_to_floor must be finite, got NaN or infinity")
        condition = np.linalg.cond(matrix)
        if not np.isfinite(condition) or condition > 1e12:
            raise CalibrationError(f"image_to_floor is near-singular (condition number {condition:.3g})")
        matrix = matrix / matrix[2, 2] if abs(matrix[2, 2]) > 1e-12 else matrix
        matrix.flags.writeable = False
        object.__setattr__(self, "image_to_floor", matrix)

    @property
    def floor_to_image(self) -> np.ndarray:
        return np.linalg.inv(self.image_to_floor)

    @property
    def rms_error_m(self) -> float:
        return float(np.sqrt(np.mean(self.residuals_m**2))) if len(self.residuals_m) else 0.0


def _points(array: npt.ArrayLike, name: str) -> np.ndarray:
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
    homogeneous = np.column_stack((points, np.ones(len(points)))) @ matrix.T
    w = homogeneous[:, 2]
    safe = np.where(np.abs(w) < MIN_DENOMINATOR, np.nan, w)
    return homogeneous[:, :2] / safe[:, None], w


def undistort_px(*, points_px: np.ndarray, calib: Calibration) -> np.ndarray:
    """Remove lens distortion from pixel points (identity without intrinsics)."""
    if calib.camera_matrix is None or len(points_px) == 0:
        return points_px
    undistorted = cv2.undistortPoints(
        points_px.reshape(-1, 1, 2), calib.camera_matrix, calib.dist_coeffs, P=calib.camera_matrix
    )
    return undistorted.reshape(-1, 2)


def to_floor(*, points_px: npt.ArrayLike, calib: Calibration) -> tuple[np.ndarray, np.ndarray]:
    """Project image points onto the floor.

    Returns:
        Floor points ``(n, 2)`` in metres and a validity mask ``(n,)``: False for points on or
        above the horizon, whose projection would be behind the camera.
    """
    points = _points(points_px, "points_px")
    if len(points) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=bool)
    floor, w = apply_homography(points=undistort_px(points_px=points, calib=calib), matrix=calib.image_to_floor)
    # Points below the horizon share the sign of w at the bottom centre of the image.
    reference = np.array([[calib.resolution_wh[0] / 2.0, calib.resolution_wh[1] - 1.0]])
    _, w_ref = apply_homography(points=reference, matrix=calib.image_to_floor)
    valid = (np.sign(w) == np.sign(w_ref[0])) & np.all(np.isfinite(floor), axis=1)
    return np.where(valid[:, None], floor, np.nan), valid


def to_image(*, points_m: npt.ArrayLike, calib: Calibration) -> np.ndarray:
    """Project floor points into (undistorted) image pixels ``(n, 2)``."""
    points = _points(points_m, "points_m")
    if len(points) == 0:
        return np.zeros((0, 2))
    image, _ = apply_homography(points=points, matrix=calib.floor_to_image)
    return image


def floor_sigma_m(*, points_px: np.ndarray, calib: Calibration, pixel_sigma_px: float) -> np.ndarray:
    """Expected floor error ``(n,)`` in metres for a pixel error of ``pixel_sigma_px`` at each point.

    Uses the local scale of the homography (metres per pixel, from finite differences), so far
    points, where one pixel spans more floor, get a larger error.
    """
    if len(points_px) == 0:
        return np.zeros(0)
    step = 1.0
    centre, _ = apply_homography(points=points_px, matrix=calib.image_to_floor)
    dx, _ = apply_homography(points=points_px + [step, 0.0], matrix=calib.image_to_floor)
    dy, _ = apply_homography(points=points_px + [0.0, step], matrix=calib.image_to_floor)
    scale = np.maximum(np.linalg.norm(dx - centre, axis=1), np.linalg.norm(dy - centre, axis=1)) / step
    sigma = pixel_sigma_px * scale
    return np.where(np.isfinite(sigma), np.maximum(sigma, 1e-3), 1e3)


def _check_pairs(image_px: np.ndarray, floor_m: np.ndarray, resolution_wh: tuple[int, int]) -> None:
    if len(image_px) != len(floor_m):
        raise CalibrationError(f"image_px and floor_m must pair up, got {len(image_px)} and {len(floor_m)} points")
    if len(image_px) < MIN_POINT_PAIRS:
        raise CalibrationError(f"need at least {MIN_POINT_PAIRS} point pairs, got {len(image_px)}")
    for name, points in (("image_px", image_px), ("floor_m", floor_m)):
        if not np.all(np.isfinite(points)):
            raise CalibrationError(f"{name} contains NaN or infinity")
        distinct = np.unique(np.round(points, 6), axis=0)
        if len(distinct) < len(points):
            raise CalibrationError(f"{name} contains duplicate points")
        centred = points - points.mean(axis=0)
        singular = np.linalg.svd(centred, compute_uv=False)
        if singular[-1] < 1e-6 * max(singular[0], 1e-12):
            raise CalibrationError(f"{name} points are collinear; spread them over the floor")
    width, height = resolution_wh
    outside = (image_px[:, 0] < 0) | (image_px[:, 0] > width) | (image_px[:, 1] < 0) | (image_px[:, 1] > height)
    if np.any(outside):
        raise CalibrationError(f"image_px points {np.flatnonzero(outside).tolist()} lie outside the {width}x{height} image")


def _fit_matrix(image_px: np.ndarray, floor_m: np.ndarray) -> np.ndarray:
    # More than the minimum: a robust fit, so one mis-clicked pair does not bend the whole plan.
    method = cv2.RANSAC if len(image_px) > MIN_POINT_PAIRS else 0
    matrix, _ = cv2.findHomography(image_px, floor_m, method, 0.5)
    if matrix is None:
        raise CalibrationError("OpenCV could not fit a homography to these points")
    return matrix


def fit_calibration(
    *,
    image_px: npt.ArrayLike,
    floor_m: npt.ArrayLike,
    resolution_wh: tuple[int, int],
    max_error_m: float = 0.5,
    camera_matrix: np.ndarray | None = None,
    dist_coeffs: np.ndarray | None = None,
) -> Calibration:
    """Fit an image-to-floor homography from 4 or more point pairs and report its errors.

    Raises:
        CalibrationError: too few, duplicate, collinear or out-of-image points, no fit, or an
            RMS error above ``max_error_m``.
    """
    image = _points(image_px, "image_px")
    floor = _points(floor_m, "floor_m")
    _check_pairs(image, floor, resolution_wh)
    probe = Calibration(np.eye(3), resolution_wh, camera_matrix, dist_coeffs)
    undistorted = undistort_px(points_px=image, calib=probe)
    matrix = _fit_matrix(undistorted, floor)
    projected, _ = apply_homography(points=undistorted, matrix=matrix)
    residuals = np.linalg.norm(projected - floor, axis=1)
    loo = np.full(len(image), np.nan)
    if len(image) > MIN_POINT_PAIRS:
        for i in range(len(image)):
            keep = np.arange(len(image)) != i
            try:
                partial = _fit_matrix(undistorted[keep], floor[keep])
            except CalibrationError:
                continue
            held_out, _ = apply_homography(points=undistorted[i : i + 1], matrix=partial)
            loo[i] = float(np.linalg.norm(held_out[0] - floor[i]))
    calib = Calibration(matrix, resolution_wh, camera_matrix, dist_coeffs, residuals, loo)
    if not np.isfinite(calib.rms_error_m) or calib.rms_error_m > max_error_m:
        raise CalibrationError(f"fit error {calib.rms_error_m:.3f} m RMS exceeds the {max_error_m} m limit")
    return calib


def _optional(array: object) -> np.ndarray | None:
    return None if array is None else np.asarray(array, dtype=np.float64)


def camera_model_to_homography(spec: CalibrationSpec) -> np.ndarray:
    """The image-to-floor homography of a pinhole camera over the world plane z = 0."""
    model = spec.camera_model
    if model is None:
        raise CalibrationError("calibration has no camera_model")
    intrinsics = np.asarray(model.camera_matrix, dtype=np.float64)
    rotation, _ = cv2.Rodrigues(np.asarray(model.rvec, dtype=np.float64))
    world_to_image = intrinsics @ np.column_stack((rotation[:, 0], rotation[:, 1], np.asarray(model.tvec_m)))
    world_to_floor = np.eye(3) if model.world_to_floor is None else np.asarray(model.world_to_floor, dtype=np.float64)
    return world_to_floor @ np.linalg.inv(world_to_image)


def calibrate_camera(camera: Camera) -> Calibration:
    """Fit and check one camera of a layout.

    Raises:
        CalibrationError: naming the camera.
    """
    spec = camera.calibration
    try:
        if spec.point_pairs is not None:
            return fit_calibration(
                image_px=[pair.image_px for pair in spec.point_pairs],
                floor_m=[pair.floor_m for pair in spec.point_pairs],
                resolution_wh=camera.resolution_wh,
                max_error_m=spec.max_error_m,
                camera_matrix=_optional(spec.camera_matrix),
                dist_coeffs=_optional(spec.dist_coeffs),
            )
        if spec.image_to_floor is not None:
            return Calibration(
                np.asarray(spec.image_to_floor, dtype=np.float64),
                camera.resolution_wh,
                _optional(spec.camera_matrix),
                _optional(spec.dist_coeffs),
            )
        matrix = camera_model_to_homography(spec)
        model = spec.camera_model
        return Calibration(
            matrix,
            camera.resolution_wh,
            np.asarray(model.camera_matrix, dtype=np.float64),  # type: ignore[union-attr]
            np.asarray(model.dist_coeffs or [0.0] * 5, dtype=np.float64),  # type: ignore[union-attr]
        )
    except CalibrationError as error:
        raise CalibrationError(f"camera {camera.id!r}: {error}") from None
