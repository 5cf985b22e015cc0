"""Fit every camera of a station for the web tier, in a process of its own.

The web tier shows calibration errors to operators and draws the floor no camera sees on the
public map, but it must never load OpenCV (tests/test_architecture.py). So a web process runs

    python -m crowdmap.station_check LAYOUT

which fits the cameras, prints a :class:`webmap.checks.StationCheck` as JSON and exits;
:func:`check_in_subprocess` does that and reads the answer.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from webmap.checks import CameraCheck, CheckError, StationCheck, check_from_dict

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 120.0
# A camera "covers" a zone it sees at least this fraction of (a sliver at its edge does not count).
MIN_ZONE_FRACTION = 0.02


def _finite(value: float) -> float | None:
    return float(value) if value == value and abs(value) != float("inf") else None


def check_station(path: str | Path, *, clock: float | None = None) -> StationCheck:
    """Fit every camera of the layout at ``path`` and take the union of their floor coverage.

    A camera whose calibration cannot be trusted is reported with its error and covers nothing.

    Raises:
        LayoutError: if the layout itself does not load.
    """
    import shapely

    from calibrator.detector_range import camera_detector_range
    from homography.calibration import CalibrationError
    from homography.coverage import coverage_polygon, floor_coverage, zone_coverage_fraction
    from homography.fitting import calibrate_camera
    from station import load_layout
    from webmap.plan_geometry import polygons_to_rings

    layout = load_layout(path)
    cameras = []
    coverages: dict[str, list[shapely.Geometry]] = {floor.id: [] for floor in layout.floors}
    for camera in layout.cameras:
        spec = camera.calibration
        # What the layout says of the camera, whether or not its calibration can be trusted.
        declared: dict[str, Any] = {
            "camera_id": camera.id,
            "floor_id": camera.floor,
            "kind": spec.kind,
            "pairs": len(spec.point_pairs or []),
            "max_error_m": spec.max_error_m,
        }
        try:
            calib = calibrate_camera(camera)
        except CalibrationError as error:
            cameras.append(
                CameraCheck(
                    **declared,
                    rms_error_m=None,
                    max_residual_m=None,
                    loo_rms_error_m=None,
                    coverage_m2=None,
                    error=str(error),
                )
            )
            continue
        covered = coverage_polygon(calib, layout.floor(camera.floor))
        coverages[camera.floor].append(covered)
        seen = zone_coverage_fraction(covered, layout.zones_on(camera.floor))
        fitted = len(calib.residuals_m) > 0
        # How tall people look there, against what the camera's detector finds reliably (issue 13).
        people = camera_detector_range(camera=camera, calib=calib, floor=layout.floor(camera.floor))
        cameras.append(
            CameraCheck(
                **declared,
                rms_error_m=_finite(calib.rms_error_m) if fitted else None,
                max_residual_m=_finite(calib.max_error_m) if fitted else None,
                loo_rms_error_m=_finite(calib.loo_rms_error_m) if fitted else None,
                coverage_m2=round(float(covered.area), 1),
                error=None,
                person_height_px=None
                if people.person_height_px is None
                else (round(people.person_height_px[0], 1), round(people.person_height_px[1], 1)),
                detector_in_range=people.in_range,
                detector_summary=people.summary(),
                zones=tuple(zone_id for zone_id, fraction in seen.items() if fraction >= MIN_ZONE_FRACTION),
            )
        )
    covered_m = {floor: polygons_to_rings(floor_coverage(parts)) for floor, parts in coverages.items() if parts}
    return StationCheck(
        station_id=layout.station.id,
        checked_at=time.time() if clock is None else clock,
        cameras=tuple(cameras),
        covered_m=covered_m,
    )


def check_in_subprocess(path: str | Path, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> StationCheck | None:
    """:func:`check_station` in a fresh Python process, so this one never loads OpenCV.

    Returns:
        The check, or None (logged) when it fails: the web tier then serves without it.
    """
    command = [sys.executable, "-m", "crowdmap.station_check", str(path)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("station check of %s failed: %s; serving without it", path, error)
        return None
    if result.returncode != 0:
        log.warning("station check of %s failed: %s; serving without it", path, result.stderr.strip()[-500:])
        return None
    try:
        return check_from_dict(json.loads(result.stdout))
    except (ValueError, CheckError) as error:
        log.warning("station check of %s gave unreadable output: %s; serving without it", path, error)
        return None


def main(argv: list[str] | None = None) -> int:
    """``python -m crowdmap.station_check LAYOUT``: print the check as JSON."""
    from station import LayoutError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m crowdmap.station_check LAYOUT", file=sys.stderr)
        return 2
    try:
        check = check_station(args[0])
    except LayoutError as error:
        print(f"crowdmap.station_check: {error}", file=sys.stderr)
        return 2
    json.dump(check.to_dict(), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
