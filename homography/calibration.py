"""Camera calibration: the image-to-floor homography of one camera, fitted and checked.

A calibration is either fitted from point pairs (pixel, floor metres) clicked by an operator,
given as a matrix, or derived from a full camera model (intrinsics, lens distortion, rotation,
translation). Whatever its source, it refuses to exist when it cannot be trusted: too few,
duplicate, collinear or out-of-image points, a fit whose error exceeds its limit, points on both
sides of the horizon, or a near-singular matrix. A bad camera fails at start, by name.

Pure functions over numpy and OpenCV's fitting routines: no files, no clocks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from homography.pose import PoseError, projection_from_camera_model
from station import Camera, CameraModel, Floor

MIN_POINT_PAIRS = 4
# The homography's denominator (w) at a point shrinks to zero on the horizon line; points this
# close to it or beyond it would land absurdly far away, so they are rejected.
MIN_DENOMINATOR = 1e-9
# How far beyond the plan's edge a projected point may land and still count: a person at the
# edge of the plan with a typical foot-point error.
PLAN_MARGIN_M = 0.5
# Below this normalised determinant (|det| over the product of row norms, after centring the
# image and the floor), the matrix squeezes the image towards a line: a degenerate calibration.
MIN_HADAMARD_RATIO = 1e-9
# Three points of a minimal 4-point fit whose triangle is thinner than this fraction of the
# spread's area are treated as collinear.
MIN_TRIANGLE_FRACTION = 1e-3
# Pairs whose pixel misses the fit by more than this are outliers to the robust fit: a few
# times the slip of a careful click.
RANSAC_THRESHOLD_PX = 6.0


class CalibrationError(ValueError):
    """A calibration cannot be trusted: too few or degenerate points, too large an error."""


def _readonly(array: npt.ArrayLike) -> np.ndarray:
    out: np.ndarray = np.array(array, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


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
            object.__setattr__(self, "camera_matrix", _readonly(intrinsics))
            object.__setattr__(self, "dist_coeffs", _readonly(coeffs))
        if self.floor_to_image_3d is not None:
            projection = np.asarray(self.floor_to_image_3d, dtype=np.float64)
            if projection.shape != (3, 4) or not np.all(np.isfinite(projection)):
                raise CalibrationError(f"floor_to_image_3d must be a finite 3x4 matrix, got shape {projection.shape}")
            object.__setattr__(self, "floor_to_image_3d", _readonly(projection))
        object.__setattr__(self, "residuals_m", _readonly(np.asarray(self.residuals_m, dtype=np.float64).ravel()))
        object.__setattr__(self, "loo_errors_m", _readonly(np.asarray(self.loo_errors_m, dtype=np.float64).ravel()))

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
    points = _points(points_px, "points_px")
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
    points = _points(points_m, "points_m")
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
    image = _points(image_px, "image_px")
    floor = _points(floor_m, "floor_m")
    _check_pairs(image, floor, resolution_wh)
    probe = Calibration(np.eye(3), resolution_wh, camera_matrix, dist_coeffs)
    undistorted = undistort_px(points_px=image, calib=probe)
    matrix = _fit_matrix(undistorted, floor)
    projected, w = apply_homography(points=undistorted, matrix=matrix)
    calib = Calibration(matrix, resolution_wh, camera_matrix, dist_coeffs)
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
