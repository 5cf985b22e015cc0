"""Fit preview: what the operator sees after each click, as plain numbers.

Given the point pairs clicked so far, fit the camera's homography with
:func:`homography.fitting.fit_calibration` and report, per pair, the residual and the
leave-one-out error in metres, where each image point lands on the plan, a grid of the floor
drawn back onto the raw image, and the camera's coverage on the plan. A fit that cannot be
trusted is reported with the calibration module's own message instead of a matrix.

Pure: numpy and the homography package, no files, no clocks.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from calibrator.detector_range import DetectorRange, camera_detector_range
from homography.calibration import Calibration, CalibrationError
from homography.coverage import coverage_polygon
from homography.fitting import MIN_POINT_PAIRS, fit_calibration
from homography.projection import to_floor, to_image, undistort_px
from station import Camera, Floor

# Grid spacings offered to the operator, metres; the finest that keeps the drawing readable wins.
GRID_STEPS_M = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
MAX_GRID_LINES_PER_AXIS = 40
# Samples per grid step along each line: enough to follow lens distortion, which bends lines.
SAMPLES_PER_STEP = 8
# Grid polylines are simplified to this tolerance (pixels) before they are sent to the page:
# without lens distortion a grid line is straight and needs only its two ends.
GRID_TOLERANCE_PX = 0.5
ROUND_TRIP_TOLERANCE_PX = 0.5
# A fit rejected for its error is refitted with this limit only to show the operator which
# points are off; such a fit is never saved.
DIAGNOSTIC_LIMIT_M = 1e6


@dataclass(frozen=True)
class FitPreview:
    """The outcome of fitting the pairs clicked so far.

    Attributes:
        pair_count: Number of point pairs given.
        error: Why the fit cannot be saved (too few, collinear, duplicate, out-of-image points,
            too large an error...), or ``None`` when it can. Pairs are numbered from 1 in the
            order given, as on the operator's page.
        residuals_m: ``(n,)`` distance between each floor point and where its image point lands,
            metres; NaN when there is no fit at all.
        loo_errors_m: ``(n,)`` error of each pair when it is left out of the fit, metres; NaN
            where it cannot be computed (4 pairs or fewer, or no fit).
        rms_error_m: Root mean square of the residuals; NaN without a fit.
        loo_rms_error_m: Root mean square of the finite leave-one-out errors; NaN without any.
        max_error_m: The camera's limit on ``rms_error_m``.
        projected_floor_m: ``(n, 2)`` where each image point lands on the plan, metres (NaN
            without a fit or above the horizon).
        grid_step_m: Spacing of the floor grid, metres.
        grid_px: Polylines ``(k_i, 2)`` of the floor grid in raw-image pixels, cut at the image
            border and at the horizon; empty without a fit.
        coverage_m: Polygons ``(k_i, 2)`` of the floor the camera sees, metres, clipped to the plan.
        calibration: The accepted calibration, or ``None`` when ``error`` is set.
        detector_range: With the accepted calibration, how tall people look on each row against the
            range the camera's detector finds reliably (``calibrator.detector_range``); else ``None``.
    """

    pair_count: int
    error: str | None
    residuals_m: np.ndarray
    loo_errors_m: np.ndarray
    rms_error_m: float
    loo_rms_error_m: float
    max_error_m: float
    projected_floor_m: np.ndarray
    grid_step_m: float
    grid_px: tuple[np.ndarray, ...] = field(default_factory=tuple)
    coverage_m: tuple[np.ndarray, ...] = field(default_factory=tuple)
    calibration: Calibration | None = None
    detector_range: DetectorRange | None = None

    def __post_init__(self) -> None:
        n = self.pair_count
        for name, shape in (("residuals_m", (n,)), ("loo_errors_m", (n,)), ("projected_floor_m", (n, 2))):
            value = getattr(self, name)
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
        if (self.error is None) != (self.calibration is not None):
            raise ValueError("a preview has either an error or an accepted calibration, not both or neither")

    @property
    def ok(self) -> bool:
        """Whether the fit is accepted and may be saved."""
        return self.error is None


def camera_intrinsics(camera: Camera) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The lens intrinsics and distortion a camera's points are undistorted with, if any.

    Taken from the calibration's own ``camera_matrix``/``dist_coeffs`` or, for a calibration
    given as a full camera model, from the model, so refitting by points keeps the lens.
    """
    spec = camera.calibration
    if spec.camera_matrix is not None and spec.dist_coeffs is not None:
        return np.asarray(spec.camera_matrix, dtype=np.float64), np.asarray(spec.dist_coeffs, dtype=np.float64)
    if spec.camera_model is not None and spec.camera_model.dist_coeffs:
        return (
            np.asarray(spec.camera_model.camera_matrix, dtype=np.float64),
            np.asarray(spec.camera_model.dist_coeffs, dtype=np.float64),
        )
    return None, None


def grid_step_for(floor: Floor) -> float:
    """The finest grid spacing (metres) with at most ``MAX_GRID_LINES_PER_AXIS`` lines per axis."""
    longest_m = max(floor.size_m)
    for step in GRID_STEPS_M:
        if longest_m / step <= MAX_GRID_LINES_PER_AXIS:
            return step
    return GRID_STEPS_M[-1]


def floor_grid_px(*, calib: Calibration, floor: Floor, step_m: float) -> tuple[np.ndarray, ...]:
    """Lines of constant x and constant y on the plan, drawn into the raw image.

    Args:
        calib: The camera's calibration.
        floor: Its floor; the grid covers the whole plan.
        step_m: Spacing of the lines, metres.

    Returns:
        Polylines ``(k, 2)`` in raw-image pixels (lens distortion applied), cut where a line
        leaves the image or passes behind the camera, simplified to ``GRID_TOLERANCE_PX``;
        only pieces of 2 points or more.
    """
    if not step_m > 0:
        raise ValueError(f"step_m must be positive, got {step_m}")
    width_m, height_m = floor.size_m
    width_px, height_px = calib.resolution_wh
    lines: list[np.ndarray] = []
    for x_m in np.arange(0.0, width_m + 1e-9, step_m):
        samples = np.linspace(0.0, height_m, max(2, math.ceil(height_m / step_m * SAMPLES_PER_STEP) + 1))
        lines.append(np.column_stack((np.full_like(samples, x_m), samples)))
    for y_m in np.arange(0.0, height_m + 1e-9, step_m):
        samples = np.linspace(0.0, width_m, max(2, math.ceil(width_m / step_m * SAMPLES_PER_STEP) + 1))
        lines.append(np.column_stack((samples, np.full_like(samples, y_m))))
    # One projection for all lines: the per-call cost of to_image dominates otherwise.
    all_m = np.concatenate(lines)
    all_px = to_image(points_m=all_m, calib=calib, distorted=True)
    visible = np.all(np.isfinite(all_px), axis=1)
    if calib.camera_matrix is not None and np.any(visible):
        # Lens models fold points far outside the field of view back into the image; keep
        # only points whose distortion undoes exactly, i.e. that the lens really images there.
        straight_px = to_image(points_m=all_m[visible], calib=calib)
        again_px = undistort_px(points_px=all_px[visible], calib=calib)
        visible[visible] = np.linalg.norm(again_px - straight_px, axis=1) < ROUND_TRIP_TOLERANCE_PX
    with np.errstate(invalid="ignore"):
        visible &= (all_px[:, 0] >= 0) & (all_px[:, 0] <= width_px) & (all_px[:, 1] >= 0) & (all_px[:, 1] <= height_px)
    pieces: list[np.ndarray] = []
    offsets = np.cumsum([0] + [len(line) for line in lines])
    for first, last in itertools.pairwise(offsets):
        line_px, inside = all_px[first:last], visible[first:last]
        # Split the line into runs of consecutive visible samples.
        edges = np.flatnonzero(np.diff(np.concatenate(([0], inside.astype(np.int8), [0]))))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= 2:
                simplified = shapely.LineString(line_px[start:stop]).simplify(GRID_TOLERANCE_PX)
                pieces.append(np.asarray(simplified.coords, dtype=np.float64))
    return tuple(pieces)


def coverage_polygons_m(*, calib: Calibration, floor: Floor) -> tuple[np.ndarray, ...]:
    """The floor the camera sees usably, as polygon exteriors in metres (clipped to the walkable floor)."""
    parts = shapely.get_parts(coverage_polygon(calib, floor))
    return tuple(np.asarray(part.exterior.coords, dtype=np.float64) for part in parts if not part.is_empty)


_POINT_NUMBER = re.compile(r"#(\d+)")
_POINT_LIST = re.compile(r"points \[([\d, ]+)\]")


def number_from_one(message: str) -> str:
    """The calibration module's message with its 0-based point numbers counted from 1.

    The operator's table numbers pairs 1, 2, 3...; ``fit_calibration`` names points by array
    index (``#0``, ``points [0, 2]``). Only those two forms are renumbered.
    """
    message = _POINT_NUMBER.sub(lambda m: f"#{int(m.group(1)) + 1}", message)
    return _POINT_LIST.sub(
        lambda m: "points [" + ", ".join(str(int(i) + 1) for i in m.group(1).split(",")) + "]", message
    )


def preview_fit(
    *,
    image_px: npt.ArrayLike,
    floor_m: npt.ArrayLike,
    camera: Camera,
    floor: Floor,
) -> FitPreview:
    """Fit the clicked pairs and describe the result for the operator.

    Args:
        image_px: Clicked image points ``(n, 2)``, raw-image pixels.
        floor_m: The matching plan points ``(n, 2)``, metres.
        camera: The camera being calibrated (resolution, lens, error limit).
        floor: The camera's floor.

    Returns:
        The preview. When the fit is rejected only for its error, the residuals of an
        unconstrained fit are still given, so the operator sees which points are off.
    """
    image = np.asarray(image_px, dtype=np.float64).reshape(-1, 2)
    plan = np.asarray(floor_m, dtype=np.float64).reshape(-1, 2)
    if len(image) != len(plan):
        raise ValueError(f"image_px and floor_m must pair up, got {len(image)} and {len(plan)} points")
    n = len(image)
    camera_matrix, dist_coeffs = camera_intrinsics(camera)
    limit_m = camera.calibration.max_error_m
    step_m = grid_step_for(floor)

    def fit(max_error_m: float) -> Calibration:
        return fit_calibration(
            image_px=image,
            floor_m=plan,
            resolution_wh=camera.resolution_wh,
            max_error_m=max_error_m,
            camera_matrix=camera_matrix,
            dist_coeffs=dist_coeffs,
        )

    error: str | None = None
    accepted: Calibration | None = None
    shown: Calibration | None = None
    try:
        accepted = shown = fit(limit_m)
    except CalibrationError as rejected:
        error = number_from_one(str(rejected))
        if n >= MIN_POINT_PAIRS:
            try:
                shown = fit(DIAGNOSTIC_LIMIT_M)
            except CalibrationError:
                shown = None
    if shown is None:
        nan = np.full(n, np.nan)
        return FitPreview(n, error, nan, nan.copy(), math.nan, math.nan, limit_m, np.full((n, 2), np.nan), step_m)
    projected, _ = to_floor(points_px=image, calib=shown)
    loo = np.asarray(shown.loo_errors_m) if len(shown.loo_errors_m) == n else np.full(n, np.nan)
    return FitPreview(
        pair_count=n,
        error=error,
        residuals_m=np.asarray(shown.residuals_m),
        loo_errors_m=loo,
        rms_error_m=shown.rms_error_m,
        loo_rms_error_m=shown.loo_rms_error_m,
        max_error_m=limit_m,
        projected_floor_m=projected,
        grid_step_m=step_m,
        grid_px=floor_grid_px(calib=shown, floor=floor, step_m=step_m),
        coverage_m=coverage_polygons_m(calib=shown, floor=floor),
        calibration=accepted,
        detector_range=None if accepted is None else camera_detector_range(camera=camera, calib=accepted, floor=floor),
    )


def calibration_overlay_json(*, calib: Calibration, floor: Floor) -> dict:
    """Grid (image px) and coverage (plan m) of an existing calibration, JSON-ready.

    Shown before the operator has clicked enough pairs, so the stored calibration can be judged
    against the still.
    """
    step_m = grid_step_for(floor)
    return {
        "grid_step_m": step_m,
        "grid_px": [_numbers(line, 1) for line in floor_grid_px(calib=calib, floor=floor, step_m=step_m)],
        "coverage_m": [_numbers(polygon, 3) for polygon in coverage_polygons_m(calib=calib, floor=floor)],
    }


def _numbers(array: np.ndarray, decimals: int) -> list:
    """Nested lists of rounded floats, with ``None`` for NaN (JSON has no NaN)."""
    rounded = np.round(np.asarray(array, dtype=np.float64), decimals).astype(object)
    rounded[~np.isfinite(np.asarray(array, dtype=np.float64))] = None
    return rounded.tolist()


def _number(value: float, decimals: int) -> float | None:
    return round(value, decimals) if math.isfinite(value) else None


def preview_to_json(preview: FitPreview) -> dict:
    """The preview as JSON-ready data for the page (metres to the millimetre, pixels to 0.1 px)."""
    return {
        "ok": preview.ok,
        "error": preview.error,
        "pair_count": preview.pair_count,
        "residuals_m": _numbers(preview.residuals_m, 3),
        "loo_errors_m": _numbers(preview.loo_errors_m, 3),
        "rms_error_m": _number(preview.rms_error_m, 3),
        "loo_rms_error_m": _number(preview.loo_rms_error_m, 3),
        "max_error_m": preview.max_error_m,
        "projected_floor_m": _numbers(preview.projected_floor_m, 3),
        "grid_step_m": preview.grid_step_m,
        "grid_px": [_numbers(line, 1) for line in preview.grid_px],
        "coverage_m": [_numbers(polygon, 3) for polygon in preview.coverage_m],
        "detector_range": None if preview.detector_range is None else preview.detector_range.as_json(),
    }
