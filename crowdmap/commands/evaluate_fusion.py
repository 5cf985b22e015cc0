"""``crowdmap eval fusion``: multi-camera projection and fusion scored on WILDTRACK.

Each camera's ground-truth boxes stand in for a detector: their foot points, optionally perturbed
(pixel noise, missed boxes, false boxes), are projected with that camera's calibration, fused
across the 7 cameras and compared with the true ground positions (matched within 0.5 m).

This module only wires the stages together for the evaluation; the geometry lives in
``homography`` and the fusion in ``iconizer.fusion``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from homography.calibration import (
    Calibration,
    calibration_from_model,
    to_image,
)
from homography.coverage import coverage_polygon
from homography.floor_metrics import DEFAULT_MATCH_DISTANCE_M, score_frames
from homography.positions import foot_points_to_floor
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
    *, feet_px: np.ndarray, calib: Calibration, floor: Floor, camera_id: str, timestamp: float, pixel_sigma_px: float
) -> FloorPositions:
    """Foot points of one camera as floor positions, dropping those beyond the plan or the horizon."""
    return foot_points_to_floor(
        foot_px=feet_px,
        confidence=np.full(len(feet_px), SIMULATED_CONFIDENCE),
        calib=calib,
        floor=floor,
        camera_id=camera_id,
        timestamp=timestamp,
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
    for frame in frames:
        timestamp = frame.frame * _SECONDS_PER_FRAME
        positions = [
            project_camera(
                feet_px=simulated_feet_px(frame, k, rig, perturbation, rng),
                calib=rig.calibrations[k],
                floor=rig.floor,
                camera_id=name,
                timestamp=timestamp,
                pixel_sigma_px=max(pixel_sigma_px, perturbation.noise_px),
            )
            for k, name in enumerate(WILDTRACK_CAMERAS)
        ]
        fused = fuse(
            positions,
            settings=settings,
            floor_id=rig.floor.id,
            timestamp=timestamp,
            coverage=dict(zip(WILDTRACK_CAMERAS, rig.coverages, strict=True)) if use_coverage else None,
        )
        pairs.append((fused.xy_m, truth_on_plan(frame)))
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


def parse_frame_range(text: str) -> tuple[int, int]:
    """``"A:B"`` -> ``(A, B)``, inclusive WILDTRACK frame numbers."""
    try:
        first_text, last_text = text.split(":")
        first, last = int(first_text), int(last_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--frames must look like A:B (e.g. 0:995), got {text!r}") from None
    if first < 0 or last < first:
        raise argparse.ArgumentTypeError(f"--frames needs 0 <= A <= B, got {text!r}")
    return first, last


def _run(args: argparse.Namespace) -> int:
    first, last = args.frames
    try:
        report = evaluate_fusion(
            args.wildtrack,
            first=first,
            last=last,
            perturbation=Perturbation(args.noise_px, args.miss_rate, args.false_rate, args.seed),
            pixel_sigma_px=args.pixel_sigma_px,
            settings=FusionSettings(min_confidence=args.min_confidence),
            use_coverage=not args.no_coverage,
        )
    except ValueError as error:
        print(f"crowdmap eval fusion: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, default=lambda v: None if math.isnan(v) else v))
    else:
        for key in ("moda", "modp", "precision", "recall", "count_mae", "position_error_m_median"):
            print(f"{key:>24}: {report[key]:.4f}")
        print(f"{'frames':>24}: {report['frames']} ({report['first_frame']}..{report['last_frame']})")
    return 0


def add_fusion_parser(eval_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``fusion`` to the ``crowdmap eval`` subcommands."""
    parser = eval_subparsers.add_parser(
        "fusion", help="score multi-camera projection and fusion on WILDTRACK", description=__doc__
    )
    parser.add_argument("--wildtrack", required=True, type=Path, help="the WILDTRACK dataset folder")
    parser.add_argument(
        "--frames", type=parse_frame_range, default=(0, 995), help="WILDTRACK frames A:B, inclusive (default 0:995)"
    )
    parser.add_argument("--noise-px", type=float, default=0.0, help="foot point noise, pixels (sigma per axis)")
    parser.add_argument("--miss-rate", type=float, default=0.0, help="probability that a box is missed")
    parser.add_argument("--false-rate", type=float, default=0.0, help="false boxes per true box (Poisson mean)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the perturbations")
    parser.add_argument(
        "--pixel-sigma-px", type=float, default=DEFAULT_PIXEL_SIGMA_PX, help="expected foot point error given to fusion"
    )
    parser.add_argument(
        "--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, help="drop fused dots below this confidence"
    )
    parser.add_argument("--no-coverage", action="store_true", help="do not tell fusion which cameras cover each spot")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.set_defaults(handler=_run)
    return parser
