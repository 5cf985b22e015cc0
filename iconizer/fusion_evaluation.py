"""Multi-camera projection and fusion scored on WILDTRACK (the work behind ``crowdmap eval fusion``).

Each camera's ground-truth boxes stand in for a detector: their foot points, optionally perturbed
(pixel noise, missed boxes, false boxes), are projected with that camera's calibration, fused
across the 7 cameras by :func:`iconizer.fusion.fuse` and compared with the true ground positions
(matched within 0.5 m by :func:`homography.floor_metrics.score_frames`). The dataset readers are
``homography.wildtrack``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from homography.calibration import Calibration
from homography.coverage import coverage_polygon
from homography.fitting import calibration_from_model
from homography.floor_metrics import DEFAULT_MATCH_DISTANCE_M, score_frames
from homography.positions import foot_points_to_floor
from homography.projection import to_image
from homography.types import FloorPositions
from homography.wildtrack import (
    WILDTRACK_CAMERAS,
    WILDTRACK_RESOLUTION_WH,
    WILDTRACK_WORLD_TO_PLAN,
    WildtrackFrame,
    load_wildtrack_camera,
    load_wildtrack_frames,
    wildtrack_floor,
)
from iconizer.fusion import FusionSettings, fuse
from station import Floor

DEFAULT_PIXEL_SIGMA_PX = 3.0
# Every simulated box, true or false, gets this detector confidence: the evaluation then measures
# what the geometry (gates, cannot-link, coverage) does, not a made-up score distribution.
SIMULATED_CONFIDENCE = 0.9
DEFAULT_MIN_CONFIDENCE = 0.5
# WILDTRACK's frame numbers count 10 fps video frames (annotated every 5th, at 2 fps).
_SECONDS_PER_FRAME = 0.1


@dataclass(frozen=True)
class Perturbation:
    """How the ground-truth boxes are degraded to look like a detector's output.

    Attributes:
        noise_px: Standard deviation of Gaussian noise added to each foot point, per axis, pixels.
        miss_rate: Probability that a box is dropped.
        false_rate: False boxes per camera and frame, as a fraction of that camera's true boxes
            (Poisson), placed uniformly over the floor the camera covers.
        seed: Random seed.
    """

    noise_px: float = 0.0
    miss_rate: float = 0.0
    false_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (self.noise_px >= 0 and 0 <= self.miss_rate <= 1 and self.false_rate >= 0):
            raise ValueError(
                f"noise_px and false_rate must be >= 0 and miss_rate in [0, 1], got "
                f"{self.noise_px}, {self.miss_rate}, {self.false_rate}"
            )


@dataclass(frozen=True)
class WildtrackRig:
    """The 7 calibrated cameras over the WILDTRACK square."""

    floor: Floor
    calibrations: tuple[Calibration, ...]
    coverages: tuple[shapely.Geometry, ...]


def load_rig(dataset_dir: str | Path) -> WildtrackRig:
    """Calibrate the 7 cameras with their undistorted intrinsics (the boxes' frame)."""
    floor = wildtrack_floor()
    calibrations = tuple(
        calibration_from_model(load_wildtrack_camera(dataset_dir, name), WILDTRACK_RESOLUTION_WH)
        for name in WILDTRACK_CAMERAS
    )
    coverages = tuple(coverage_polygon(calib, floor) for calib in calibrations)
    return WildtrackRig(floor=floor, calibrations=calibrations, coverages=coverages)


def truth_on_plan(frame: WildtrackFrame) -> np.ndarray:
    """True positions ``(n, 2)`` in plan metres."""
    transform = np.asarray(WILDTRACK_WORLD_TO_PLAN)
    return frame.ground_m @ transform[:2, :2].T + transform[:2, 2]


def _uniform_in(region: shapely.Geometry, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points uniformly distributed over a polygon (rejection sampling)."""
    if count == 0 or region.is_empty:
        return np.zeros((0, 2))
    x0, y0, x1, y1 = region.bounds
    found = np.zeros((0, 2))
    while len(found) < count:
        candidates = rng.uniform((x0, y0), (x1, y1), size=(4 * count + 8, 2))
        found = np.concatenate((found, candidates[shapely.contains_xy(region, candidates[:, 0], candidates[:, 1])]))
    return found[:count]


def simulated_feet_px(
    frame: WildtrackFrame, camera: int, rig: WildtrackRig, perturbation: Perturbation, rng: np.random.Generator
) -> np.ndarray:
    """The foot points ``(m, 2)`` a detector would report in one camera, in pixels.

    True boxes whose foot point lies outside the image are dropped: the camera cannot see those
    feet, and a detector's box would be cut at the image border.
    """
    boxes = frame.boxes_px[camera]
    boxes = boxes[np.all(np.isfinite(boxes), axis=1)]
    feet = np.column_stack(((boxes[:, 0] + boxes[:, 2]) / 2.0, boxes[:, 3]))
    width, height = WILDTRACK_RESOLUTION_WH
    feet = feet[(feet[:, 0] >= 0) & (feet[:, 0] <= width - 1) & (feet[:, 1] >= 0) & (feet[:, 1] <= height - 1)]
    feet = feet[rng.random(len(feet)) >= perturbation.miss_rate]
    calib = rig.calibrations[camera]
    if perturbation.false_rate > 0:
        false_floor = _uniform_in(rig.coverages[camera], int(rng.poisson(perturbation.false_rate * len(feet))), rng)
        false_px = to_image(points_m=false_floor, calib=calib, distorted=True)
        # NaN marks floor points behind the camera: no box there.
        feet = np.concatenate((feet, false_px[np.all(np.isfinite(false_px), axis=1)]))
    if perturbation.noise_px > 0:
        feet = feet + rng.normal(0.0, perturbation.noise_px, size=feet.shape)
    return feet


def project_camera(
    *, feet_px: np.ndarray, calib: Calibration, floor: Floor, camera_id: str, timestamp_s: float, pixel_sigma_px: float
) -> FloorPositions:
    """Foot points of one camera as floor positions, dropping those beyond the plan or the horizon."""
    return foot_points_to_floor(
        foot_px=feet_px,
        confidence=np.full(len(feet_px), SIMULATED_CONFIDENCE),
        calib=calib,
        floor=floor,
        camera_id=camera_id,
        timestamp_s=timestamp_s,
        pixel_sigma_px=pixel_sigma_px,
    )


def evaluate_fusion(
    dataset_dir: str | Path,
    *,
    first: int = 0,
    last: int = 995,
    perturbation: Perturbation = Perturbation(),
    pixel_sigma_px: float = DEFAULT_PIXEL_SIGMA_PX,
    settings: FusionSettings | None = None,
    max_distance_m: float = DEFAULT_MATCH_DISTANCE_M,
    use_coverage: bool = True,
    on_frames: Callable[[int], object] | None = None,
    on_frame: Callable[[], object] | None = None,
) -> dict[str, float | int]:
    """Run the WILDTRACK fusion evaluation over frames ``first..last`` (inclusive).

    Args:
        dataset_dir: The WILDTRACK folder.
        first: First frame number.
        last: Last frame number (inclusive).
        perturbation: How boxes are degraded.
        pixel_sigma_px: Expected foot point error handed to the fusion (at least the noise).
        settings: Fusion settings; default ``FusionSettings(min_confidence=0.5)``.
        max_distance_m: Matching radius for the scores.
        use_coverage: Give fusion each camera's coverage, so silent covering cameras lower a
            dot's confidence (what drops most false boxes).
        on_frames: Called once with the number of annotated frames to score (progress display).
        on_frame: Called after each scored frame.

    Returns:
        The scores (``moda``, ``modp``, ``precision``, ``recall``, ``count_mae``,
        ``position_error_m_median`` and counts) plus the settings used.
    """
    if settings is None:
        settings = FusionSettings(min_confidence=DEFAULT_MIN_CONFIDENCE)
    rig = load_rig(dataset_dir)
    frames = load_wildtrack_frames(dataset_dir, first, last)
    rng = np.random.default_rng(perturbation.seed)
    pairs = []
    if on_frames is not None:
        on_frames(len(frames))
    for frame in frames:
        timestamp_s = frame.frame * _SECONDS_PER_FRAME
        positions = [
            project_camera(
                feet_px=simulated_feet_px(frame, k, rig, perturbation, rng),
                calib=rig.calibrations[k],
                floor=rig.floor,
                camera_id=name,
                timestamp_s=timestamp_s,
                pixel_sigma_px=max(pixel_sigma_px, perturbation.noise_px),
            )
            for k, name in enumerate(WILDTRACK_CAMERAS)
        ]
        fused = fuse(
            positions,
            settings=settings,
            floor_id=rig.floor.id,
            timestamp_s=timestamp_s,
            coverage=dict(zip(WILDTRACK_CAMERAS, rig.coverages, strict=True)) if use_coverage else None,
        )
        pairs.append((fused.xy_m, truth_on_plan(frame)))
        if on_frame is not None:
            on_frame()
    report: dict[str, float | int] = dict(score_frames(pairs, max_distance_m=max_distance_m).as_dict())
    report.update(
        first_frame=frames[0].frame,
        last_frame=frames[-1].frame,
        noise_px=perturbation.noise_px,
        miss_rate=perturbation.miss_rate,
        false_rate=perturbation.false_rate,
        seed=perturbation.seed,
        pixel_sigma_px=pixel_sigma_px,
        min_confidence=settings.min_confidence,
        use_coverage=int(use_coverage),
    )
    return report
