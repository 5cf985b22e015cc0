"""What a calibration tells the detector about its view: how tall people look, where the floor is.

The runtime calls these once per camera at start and hands the arrays to the detector
(``detector.scene.SceneHints``), which must not import calibration code itself.

The height of a person in pixels depends on where the camera hangs, which a homography alone
does not say. With a full camera model the projection is exact. With a homography alone it is
lifted to 3D assuming square pixels, no skew and the principal point at the image centre (or
the given intrinsics); the focal length is then estimated from the homography itself and a
nominal 60 degree field of view is assumed only where the homography cannot tell (a camera
looking straight down). See ``homography.pose`` and docs/CALIBRATION.md.
"""

from __future__ import annotations

import numpy as np
import shapely

from homography.calibration import Calibration
from homography.pose import (
    MAX_PLAUSIBLE_ROLL_DEG,
    FocalEstimate,
    PoseError,
    project_3d,
    projection_from_homography,
    roll_deg,
)
from homography.projection import distort_px, to_floor
from station import Floor

NOMINAL_PERSON_HEIGHT_M = 1.7
# Columns sampled per image row to find the typical height along that row.
_COLUMNS_PER_ROW = 65


def floor_projection(calib: Calibration) -> tuple[np.ndarray, FocalEstimate | None]:
    """The ``(3, 4)`` projection of floor points with height up, and how its focal length was found.

    Returns:
        The calibration's own projection (from a camera model; focal estimate None) or one
        lifted from its homography.

    Raises:
        PoseError: the homography implies a camera rolled by more than 45 degrees (not a physical
            camera's homography).
    """
    if calib.floor_to_image_3d is not None:
        return np.asarray(calib.floor_to_image_3d), None
    projection, focal = projection_from_homography(
        image_to_floor=calib.image_to_floor, resolution_wh=calib.resolution_wh, camera_matrix=calib.camera_matrix
    )
    width, height = calib.resolution_wh
    (bottom_m,), valid = to_floor(points_px=[[width / 2.0, height - 1.0]], calib=calib)
    roll = roll_deg(projection=projection, floor_point_m=bottom_m) if valid[0] else 180.0
    if abs(roll) > MAX_PLAUSIBLE_ROLL_DEG:
        raise PoseError(
            f"the homography implies a camera rolled by {roll:.0f} degrees, which no level CCTV camera is: "
            "it is not a physical camera's homography (one made by hand?), so it cannot tell how tall people "
            "look; give the camera a camera_model, or person heights at two rows (SceneHints.from_near_far)"
        )
    return projection, focal


def on_walkable(*, points_m: np.ndarray, floor: Floor) -> np.ndarray:
    """Which floor points ``(n, 2)`` (NaN allowed) lie on the floor's walkable area (``(n,)`` bool)."""
    inside = np.zeros(len(points_m), dtype=bool)
    finite = np.all(np.isfinite(points_m), axis=1)
    if np.any(finite):
        walkable = floor.walkable
        shapely.prepare(walkable)
        inside[finite] = shapely.contains_xy(walkable, points_m[finite, 0], points_m[finite, 1])
    return inside


def person_height_px_per_row(
    calib: Calibration, floor: Floor, person_height_m: float = NOMINAL_PERSON_HEIGHT_M
) -> np.ndarray:
    """Expected height in pixels of a standing person whose feet are on each image row.

    Args:
        calib: The camera's calibration.
        floor: Its floor; rows that see none of its walkable area get NaN.
        person_height_m: Standing height, metres.

    Returns:
        ``(H,)`` heights in raw-image pixels (vertical extent from feet to head), the median over
        the row's columns that see walkable floor; NaN for rows that see none.

    Raises:
        ValueError: a non-positive ``person_height_m``.
        PoseError: (a ``ValueError``) a homography no level camera could have; see :func:`floor_projection`.
    """
    if not person_height_m > 0:
        raise ValueError(f"person_height_m must be positive, got {person_height_m}")
    width, height = calib.resolution_wh
    projection, _ = floor_projection(calib)
    columns = np.linspace(0.0, width - 1.0, _COLUMNS_PER_ROW)
    rows = np.arange(height, dtype=np.float64)
    uu, vv = np.meshgrid(columns, rows)
    feet_px = np.column_stack((uu.ravel(), vv.ravel()))
    floor_m, valid = to_floor(points_px=feet_px, calib=calib, floor=floor, margin_m=0.0)
    valid &= on_walkable(points_m=floor_m, floor=floor)
    xy = np.where(valid[:, None], floor_m, 0.0)
    head_px, head_depth = project_3d(points_m=xy, height_m=person_height_m, projection=projection)
    foot_px, foot_depth = project_3d(points_m=xy, height_m=0.0, projection=projection)
    valid &= (head_depth > 0) & (foot_depth > 0)
    heights = np.full(len(feet_px), np.nan)
    if np.any(valid):
        head_raw = distort_px(points_px=head_px[valid], calib=calib)
        foot_raw = distort_px(points_px=foot_px[valid], calib=calib)
        heights[valid] = foot_raw[:, 1] - head_raw[:, 1]
    # A head below the feet in the image means the camera looks up at people: no usable floor.
    heights[~(heights > 0)] = np.nan
    per_row = heights.reshape(uu.shape)
    out = np.full(height, np.nan)
    seen = np.any(np.isfinite(per_row), axis=1)
    out[seen] = np.nanmedian(per_row[seen], axis=1)
    return out


def floor_mask_px(calib: Calibration, floor: Floor) -> np.ndarray:
    """Pixels of the raw image that see the floor's walkable area.

    Args:
        calib: The camera's calibration.
        floor: Its floor.

    Returns:
        ``(H, W)`` bool mask, True where the pixel's ray meets walkable floor in front of the camera.
    """
    width, height = calib.resolution_wh
    uu, vv = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    floor_m, valid = to_floor(
        points_px=np.column_stack((uu.ravel(), vv.ravel())), calib=calib, floor=floor, margin_m=0.0
    )
    mask = np.zeros(len(floor_m), dtype=bool)
    mask[valid] = on_walkable(points_m=floor_m[valid], floor=floor)
    return mask.reshape(height, width)
