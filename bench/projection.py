"""Benchmark: image-to-floor projection throughput, against a naive per-point Python loop.

Run from the project root::

    .venv/bin/python bench/projection.py [--points 200000] [--repeats 7]

Projects random pixels of WILDTRACK camera CVLab1 (1920x1080) onto the floor with
``homography.projection.to_floor`` (vectorised numpy + OpenCV), with and without lens
distortion, and with the plan bounds check; the baseline, measured in the same run, projects one
point at a time in a Python loop (``cv2.undistortPoints`` per point when distorted, then the 3x3
homography and the horizon test by hand). Reports median points per second and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import cv2
import numpy as np

from homography.calibration import Calibration
from homography.fitting import calibration_from_model
from homography.projection import to_floor
from homography.wildtrack import WILDTRACK_RESOLUTION_WH, load_wildtrack_camera, wildtrack_floor

WILDTRACK = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wildtrack"


def naive_to_floor(points_px: np.ndarray, calib: Calibration) -> tuple[list[tuple[float, float]], list[bool]]:
    """The baseline: one point at a time, as a straightforward first implementation would."""
    matrix = calib.image_to_floor.tolist()
    sign = calib.horizon_sign
    distorted = calib.camera_matrix is not None and bool(np.any(calib.dist_coeffs))
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-9)
    out, valid = [], []
    for u, v in points_px.tolist():
        if distorted:
            # Same solver settings as to_floor, so both give the same answer.
            (u, v) = cv2.undistortPointsIter(
                np.array([[[u, v]]]), calib.camera_matrix, calib.dist_coeffs, None, calib.camera_matrix, criteria
            )[0, 0].tolist()
        x = matrix[0][0] * u + matrix[0][1] * v + matrix[0][2]
        y = matrix[1][0] * u + matrix[1][1] * v + matrix[1][2]
        w = matrix[2][0] * u + matrix[2][1] * v + matrix[2][2]
        ok = w * sign > 1e-9
        out.append((x / w, y / w) if ok else (float("nan"), float("nan")))
        valid.append(ok)
    return out, valid


def median_rate(fn, n_points: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n_points / statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--baseline-points", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    width, height = WILDTRACK_RESOLUTION_WH
    points = rng.uniform((0, 0), (width - 1, height - 1), size=(args.points, 2))
    few = points[: args.baseline_points]
    floor = wildtrack_floor()
    print(f"points: {args.points} (baseline {args.baseline_points}), repeats: {args.repeats}, medians")
    print(f"{'case':<44}{'to_floor pts/s':>16}{'naive loop pts/s':>18}{'ratio':>8}")
    for label, undistorted in (("undistorted (intrinsic_zero)", True), ("with lens distortion", False)):
        calib = calibration_from_model(
            load_wildtrack_camera(WILDTRACK, "CVLab1", undistorted=undistorted), (width, height)
        )
        # Same answers first: a fast wrong projection is no benchmark.
        fast, fast_valid = to_floor(points_px=few, calib=calib)
        slow, slow_valid = naive_to_floor(few, calib)
        both = fast_valid & np.array(slow_valid)
        np.testing.assert_allclose(fast[both], np.array(slow)[both], rtol=1e-6, atol=1e-6)
        vectorised = median_rate(lambda c=calib: to_floor(points_px=points, calib=c), args.points, args.repeats)
        with_plan = median_rate(
            lambda c=calib: to_floor(points_px=points, calib=c, floor=floor), args.points, args.repeats
        )
        naive = median_rate(lambda c=calib: naive_to_floor(few, c), args.baseline_points, max(3, args.repeats // 2))
        print(f"{label:<44}{vectorised:>16,.0f}{naive:>18,.0f}{vectorised / naive:>8.0f}x")
        print(f"{label + ' + plan bounds':<44}{with_plan:>16,.0f}{naive:>18,.0f}{with_plan / naive:>8.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
