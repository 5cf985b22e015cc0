"""Building a :class:`Calibration`: fitted from clicked point pairs, given as a matrix, or from a camera model.

Whatever its source, a calibration refuses to exist when it cannot be trusted: too few,
duplicate, collinear or out-of-image points, a fit whose error exceeds its limit, points on both
sides of the horizon, or a near-singular matrix. A bad camera fails at start, by name.

Pure functions over numpy and OpenCV's fitting routines: no files, no clocks.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt

from homography.calibration import Calibration, CalibrationError
from homography.pose import PoseError, projection_from_camera_model
from homography.projection import apply_homography, as_points, to_floor, undistort_px
from station import Camera, CameraModel

MIN_POINT_PAIRS = 4
# Three points of a minimal 4-point fit whose triangle is thinner than this fraction of the
# spread's area are treated as collinear.
MIN_TRIANGLE_FRACTION = 1e-3
# Pairs whose pixel misses the fit by more than this are outliers to the robust fit: a few
# times the slip of a careful click.
RANSAC_THRESHOLD_PX = 6.0


def _check_spread(points: np.ndarray, name: str) -> None:
    distinct = np.unique(np.round(points, 6), axis=0)
    if len(distinct) < len(points):
        raise CalibrationError(f"{name} contains duplicate points")
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    if singular[-1] < 1e-3 * max(singular[0], 1e-12):
        raise CalibrationError(f"{name} points are collinear; spread them over the floor")
    if len(points) == MIN_POINT_PAIRS:
        # Four points with three on a line fit no homography, or infinitely many.
        spread = singular[0] * singular[1] / len(points)
        for triple in itertools.combinations(range(len(points)), 3):
            a, b, c = points[list(triple)]
            area = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) / 2.0
            if area < MIN_TRIANGLE_FRACTION * spread:
                raise CalibrationError(
                    f"{name} points {list(triple)} are collinear; with 4 pairs no three may lie on a line"
                )


def _check_pairs(image_px: np.ndarray, floor_m: np.ndarray, resolution_wh: tuple[int, int]) -> None:
    if len(image_px) != len(floor_m):
        raise CalibrationError(f"image_px and floor_m must pair up, got {len(image_px)} and {len(floor_m)} points")
    if len(image_px) < MIN_POINT_PAIRS:
        raise CalibrationError(f"need at least {MIN_POINT_PAIRS} point pairs, got {len(image_px)}")
    for name, points in (("image_px", image_px), ("floor_m", floor_m)):
        if not np.all(np.isfinite(points)):
            bad = np.flatnonzero(~np.all(np.isfinite(points), axis=1)).tolist()
            raise CalibrationError(f"{name} points {bad} contain NaN or infinity")
    width, height = resolution_wh
    outside = (image_px[:, 0] < 0) | (image_px[:, 0] > width) | (image_px[:, 1] < 0) | (image_px[:, 1] > height)
    if np.any(outside):
        raise CalibrationError(
            f"image_px points {np.flatnonzero(outside).tolist()} lie outside the {width}x{height} image"
        )
    for name, points in (("image_px", image_px), ("floor_m", floor_m)):
        _check_spread(points, name)


def _fit_matrix(image_px: np.ndarray, floor_m: np.ndarray) -> np.ndarray:
    """Image-to-floor homography, fitted as floor-to-image so errors are measured in pixels.

    Click errors are pixel errors: a 2 px slip spans centimetres near the camera and metres far
    away. Measured in metres, a far point's honest slip would look like an outlier and bend the
    fit; measured in pixels, every point weighs what its click is worth.
    """
    least_squares, _ = cv2.findHomography(floor_m, image_px, 0)
    floor_to_image = least_squares
    if least_squares is not None and len(image_px) > MIN_POINT_PAIRS:
        reprojected, _ = apply_homography(points=floor_m, matrix=least_squares)
        if not np.all(np.linalg.norm(reprojected - image_px, axis=1) <= RANSAC_THRESHOLD_PX):
            # Some pair misses by more than a click's slip: a robust fit, so one mis-clicked pair
            # shows up alone, with a large residual, instead of bending the whole plan. It must
            # rest on at least 5 pairs: any 4 fit exactly, so a 4-pair consensus proves nothing.
            robust, inliers = cv2.findHomography(
                floor_m, image_px, cv2.RANSAC, RANSAC_THRESHOLD_PX, maxIters=5000, confidence=0.999
            )
            if robust is not None and inliers is not None and int(inliers.sum()) > MIN_POINT_PAIRS:
                floor_to_image = robust
    if floor_to_image is None or not np.all(np.isfinite(floor_to_image)):
        raise CalibrationError("OpenCV could not fit a homography to these points")
    try:
        return np.linalg.inv(floor_to_image)
    except np.linalg.LinAlgError:
        raise CalibrationError("the fitted homography is singular") from None


def _describe_worst(residuals: np.ndarray, limit_m: float) -> str:
    order = np.argsort(residuals)[::-1]
    worst = [f"#{i} {residuals[i]:.2f} m" for i in order[:3] if residuals[i] > limit_m]
    return f"; worst points: {', '.join(worst)}" if worst else ""


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

    With more than 4 pairs the fit is robust (RANSAC in pixels, refined on the inliers), so a
    mis-clicked pair shows as one large residual.

    Args:
        image_px: Pixel points ``(n, 2)`` in the raw image (distortion included).
        floor_m: The matching floor points ``(n, 2)``, metres.
        resolution_wh: Image size in pixels; every point must lie inside.
        max_error_m: Largest acceptable RMS residual over all pairs, metres.
        camera_matrix: Optional intrinsics ``(3, 3)``; points are undistorted before the fit.
        dist_coeffs: OpenCV distortion coefficients, with ``camera_matrix``.

    Returns:
        The calibration, with per-pair residuals and leave-one-out errors (5 pairs or more).

    Raises:
        CalibrationError: too few, duplicate, collinear, non-finite or out-of-image points, no
            fit, points on both sides of the fitted horizon, a near-singular matrix, or an RMS
            error above ``max_error_m`` (naming the worst points).
    """
    image = as_points(image_px, "image_px")
    floor = as_points(floor_m, "floor_m")
    _check_pairs(image, floor, resolution_wh)
    probe = Calibration(np.eye(3), resolution_wh, camera_matrix, dist_coeffs)
    undistorted = undistort_px(points_px=image, calib=probe)
    matrix = _fit_matrix(undistorted, floor)
    calib = Calibration(matrix, resolution_wh, camera_matrix, dist_coeffs)
    # The calibration's own (normalised) matrix: its scale may flip the sign of w against the
    # fitted one, and the horizon's side is taken from it.
    projected, w = apply_homography(points=undistorted, matrix=calib.image_to_floor)
    # A fit through mismatched pairs can put the horizon among the points: some would then lie
    # "behind" the camera. No real floor looks like that.
    behind = np.flatnonzero(np.sign(w) != calib.horizon_sign)
    if len(behind):
        raise CalibrationError(
            f"image_px points {behind.tolist()} fall above the fitted horizon; are the pairs matched in the same order?"
        )
    residuals = np.linalg.norm(projected - floor, axis=1)
    loo = np.full(len(image), np.nan) if len(image) > MIN_POINT_PAIRS else np.zeros(0)
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
        raise CalibrationError(
            f"fit error {calib.rms_error_m:.3f} m RMS exceeds the {max_error_m} m limit"
            + _describe_worst(residuals, max_error_m)
        )
    return calib


def _optional(array: object) -> np.ndarray | None:
    return None if array is None else np.asarray(array, dtype=np.float64)


def model_to_homography(model: CameraModel) -> np.ndarray:
    """The image-to-floor homography (undistorted pixels -> plan metres) of a camera model."""
    intrinsics = np.asarray(model.camera_matrix, dtype=np.float64)
    rotation, _ = cv2.Rodrigues(np.asarray(model.rvec, dtype=np.float64))
    world_to_image = intrinsics @ np.column_stack((rotation[:, 0], rotation[:, 1], np.asarray(model.tvec_m)))
    world_to_floor = np.eye(3) if model.world_to_floor is None else np.asarray(model.world_to_floor, dtype=np.float64)
    try:
        return world_to_floor @ np.linalg.inv(world_to_image)
    except np.linalg.LinAlgError:
        raise CalibrationError("the camera model looks at the floor edge-on (singular floor projection)") from None


def calibration_from_model(model: CameraModel, resolution_wh: tuple[int, int]) -> Calibration:
    """A calibration from a full camera model: exact homography, lens distortion and 3D projection.

    Raises:
        CalibrationError: a singular projection, a non-affine ``world_to_floor``, or a camera
            that does not see the floor at the bottom of its image.
    """
    try:
        projection = projection_from_camera_model(
            camera_matrix=model.camera_matrix, rvec=model.rvec, tvec_m=model.tvec_m, world_to_floor=model.world_to_floor
        )
    except PoseError as error:
        raise CalibrationError(str(error)) from None
    calib = Calibration(
        model_to_homography(model),
        resolution_wh,
        np.asarray(model.camera_matrix, dtype=np.float64),
        np.asarray(model.dist_coeffs or [0.0] * 5, dtype=np.float64),
        floor_to_image_3d=projection,
    )
    # The floor seen at the image's bottom centre must be in front of the camera, not behind it.
    bottom, _ = to_floor(points_px=[[resolution_wh[0] / 2.0, resolution_wh[1] - 1.0]], calib=calib)
    depth = np.append(bottom[0], [0.0, 1.0]) @ projection[2]
    if not np.all(np.isfinite(bottom)) or depth <= 0:
        raise CalibrationError("the camera model does not see the floor at the bottom of its image")
    return calib


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
        if spec.camera_model is not None:
            return calibration_from_model(spec.camera_model, camera.resolution_wh)
        raise CalibrationError("calibration gives none of point_pairs, image_to_floor, camera_model")
    except CalibrationError as error:
        raise CalibrationError(f"camera {camera.id!r}: {error}") from None
