"""Foot points of one camera to floor positions: the homography stage's output value."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from homography.calibration import Calibration
from homography.projection import floor_sigma_m, to_floor, undistort_px
from homography.types import FloorPositions
from station import Floor


def foot_points_to_floor(
    *,
    foot_px: npt.ArrayLike,
    confidence: npt.ArrayLike,
    calib: Calibration,
    floor: Floor,
    camera_id: str,
    timestamp_s: float,
    pixel_sigma_px: float,
) -> FloorPositions:
    """Project one camera's foot points onto its floor, with each point's expected error.

    A foot point above the horizon or beyond the plan is a false detection or a person the
    calibration cannot place; it is dropped rather than published somewhere absurd.

    Args:
        foot_px: Foot points ``(n, 2)`` in raw image pixels (lens distortion included).
        confidence: Detection scores ``(n,)``.
        calib: The camera's calibration.
        floor: The camera's floor.
        camera_id: The camera.
        timestamp_s: Capture time, unix seconds.
        pixel_sigma_px: Expected foot point error in pixels; sets each position's ``sigma_m``.

    Returns:
        The positions that land on the floor, in metres.
    """
    feet = np.asarray(foot_px, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(confidence, dtype=np.float64).reshape(-1)
    xy_m, valid = to_floor(points_px=feet, calib=calib, floor=floor)
    # floor_sigma_m works on undistorted pixels: the homography's own frame.
    sigma_m = floor_sigma_m(
        points_px=undistort_px(points_px=feet[valid], calib=calib), calib=calib, pixel_sigma_px=pixel_sigma_px
    )
    return FloorPositions(
        camera_id=camera_id,
        floor_id=floor.id,
        timestamp_s=timestamp_s,
        xy_m=xy_m[valid],
        confidence=scores[valid],
        sigma_m=sigma_m,
    )
