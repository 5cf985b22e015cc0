"""Where a camera is: the 3D projection behind an image-to-floor homography.

A homography maps the floor; to know how tall a standing person looks, or how high the camera
hangs, the full pinhole projection of points *above* the floor is needed. It comes either from a
camera model (intrinsics, ``rvec``, ``tvec``), exactly, or from the homography alone, assuming
square pixels, no skew and a known principal point (the image centre unless intrinsics are given).

All matrices here map floor-frame points ``(x_m, y_m, height_m, 1)``, with the height measured
*up* from the floor, to undistorted image pixels. Pure numpy and OpenCV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

# When a homography does not determine the focal length (a camera looking straight down, where
# the two constraints vanish), assume this horizontal field of view, typical of CCTV lenses.
NOMINAL_HORIZONTAL_FOV_DEG = 60.0
# CCTV cameras hang level, give or take a few degrees. A homography whose implied camera leans
# further is not a physical camera's (one made by hand, say): heights from it would be nonsense.
MAX_PLAUSIBLE_ROLL_DEG = 45.0
# Focal lengths implied by a homography outside this range (in image widths) are taken as noise
# in the homography rather than a real lens: fish-eye ~0.3 W, long telephoto ~5 W.
_FOCAL_RANGE_WIDTHS = (0.25, 8.0)


class PoseError(ValueError):
    """A camera pose cannot be derived: a singular matrix or a non-affine plan transform."""


@dataclass(frozen=True)
class FocalEstimate:
    """The focal length used to lift a homography to 3D, and where it came from.

    Attributes:
        focal_px: Focal length in pixels.
        source: ``"intrinsics"`` (given), ``"homography"`` (estimated) or ``"nominal"`` (assumed).
    """

    focal_px: float
    source: str


def world_to_floor_3d(world_to_floor: npt.ArrayLike | None, camera_centre_world: np.ndarray) -> np.ndarray:
    """The ``(4, 4)`` map from floor points with height up ``(x, y, h, 1)`` to world ``(X, Y, Z, 1)``.

    Args:
        world_to_floor: ``(3, 3)`` affine map of ground coordinates, world -> plan; None for identity.
        camera_centre_world: ``(3,)`` camera centre in world coordinates; the side of the floor it
            is on says whether world z points up or down (both conventions are in use).

    Raises:
        PoseError: ``world_to_floor`` is not affine or is singular.
    """
    plan = np.eye(3) if world_to_floor is None else np.asarray(world_to_floor, dtype=np.float64)
    if plan.shape != (3, 3) or not np.allclose(plan[2], [0.0, 0.0, plan[2, 2]]) or abs(plan[2, 2]) < 1e-12:
        raise PoseError(f"world_to_floor must be a 3x3 affine matrix (last row 0 0 1), got {plan.tolist()}")
    plan = plan / plan[2, 2]
    if abs(np.linalg.det(plan[:2, :2])) < 1e-12:
        raise PoseError("world_to_floor is singular")
    floor_to_world = np.linalg.inv(plan)
    up = 1.0 if camera_centre_world[2] >= 0 else -1.0
    # Heights are metric: scale the world's z by the plan's scale so heights stay in metres.
    height_scale = math.sqrt(abs(np.linalg.det(floor_to_world[:2, :2])))
    lift = np.zeros((4, 4))
    lift[:2, :2] = floor_to_world[:2, :2]
    lift[:2, 3] = floor_to_world[:2, 2]
    lift[2, 2] = up * height_scale
    lift[3, 3] = 1.0
    return lift


def projection_from_camera_model(
    *,
    camera_matrix: npt.ArrayLike,
    rvec: npt.ArrayLike,
    tvec_m: npt.ArrayLike,
    world_to_floor: npt.ArrayLike | None = None,
) -> np.ndarray:
    """The ``(3, 4)`` projection of floor points with height up, from a full camera model.

    Args:
        camera_matrix: ``(3, 3)`` intrinsics.
        rvec: ``(3,)`` Rodrigues rotation, world -> camera.
        tvec_m: ``(3,)`` translation, world -> camera, metres.
        world_to_floor: Optional ``(3, 3)`` affine ground transform, world -> plan.
    """
    rotation, _ = cv2.Rodrigues(np.asarray(rvec, dtype=np.float64).reshape(3))
    translation = np.asarray(tvec_m, dtype=np.float64).reshape(3)
    centre = -rotation.T @ translation
    extrinsic = np.column_stack((rotation, translation))
    return np.asarray(camera_matrix, dtype=np.float64) @ extrinsic @ world_to_floor_3d(world_to_floor, centre)


def _nominal_focal(width_px: int) -> float:
    return (width_px / 2.0) / math.tan(math.radians(NOMINAL_HORIZONTAL_FOV_DEG) / 2.0)


def estimate_focal_px(
    *, floor_to_image: np.ndarray, principal_point_px: tuple[float, float], width_px: int
) -> FocalEstimate:
    """The focal length a floor-to-image homography implies (Zhang's two constraints, least squares).

    For ``G = K [r1 r2 t]`` with ``K = diag(f, f, 1)`` about the principal point, ``r1 . r2 = 0``
    and ``|r1| = |r2|`` are two linear equations in ``1 / f^2``. A camera looking straight down
    makes both vanish; then, or when the result is not a plausible lens, a nominal 60 degree
    horizontal field of view is assumed.
    """
    cx, cy = principal_point_px
    centred = np.array([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]]) @ floor_to_image
    centred = centred / np.linalg.norm(centred)
    g1, g2 = centred[:, 0], centred[:, 1]
    # a * (1/f^2) + b = 0 for each constraint.
    a = np.array([g1[0] * g2[0] + g1[1] * g2[1], g1[0] ** 2 + g1[1] ** 2 - g2[0] ** 2 - g2[1] ** 2])
    b = np.array([g1[2] * g2[2], g1[2] ** 2 - g2[2] ** 2])
    denominator = float(a @ a)
    if denominator > 0:
        inverse_f2 = -float(a @ b) / denominator
        if inverse_f2 > 0:
            focal = 1.0 / math.sqrt(inverse_f2)
            low, high = (limit * width_px for limit in _FOCAL_RANGE_WIDTHS)
            if low <= focal <= high:
                return FocalEstimate(focal, "homography")
    return FocalEstimate(_nominal_focal(width_px), "nominal")


def projection_from_homography(
    *,
    image_to_floor: np.ndarray,
    resolution_wh: tuple[int, int],
    camera_matrix: np.ndarray | None = None,
) -> tuple[np.ndarray, FocalEstimate]:
    """Lift an image-to-floor homography to a ``(3, 4)`` projection of floor points with height up.

    Args:
        image_to_floor: ``(3, 3)`` homography, undistorted pixels -> floor metres.
        resolution_wh: Image size; its centre is the principal point unless intrinsics are given.
        camera_matrix: Optional ``(3, 3)`` intrinsics; when given, no focal length is estimated.

    Returns:
        The projection and the focal length used.

    Raises:
        PoseError: The homography is singular.
    """
    try:
        floor_to_image = np.linalg.inv(np.asarray(image_to_floor, dtype=np.float64))
    except np.linalg.LinAlgError:
        raise PoseError("image_to_floor is singular") from None
    if camera_matrix is not None:
        intrinsics = np.asarray(camera_matrix, dtype=np.float64)
        focal = FocalEstimate(float(intrinsics[0, 0]), "intrinsics")
    else:
        principal = (resolution_wh[0] / 2.0, resolution_wh[1] / 2.0)
        focal = estimate_focal_px(
            floor_to_image=floor_to_image, principal_point_px=principal, width_px=resolution_wh[0]
        )
        intrinsics = np.array(
            [[focal.focal_px, 0.0, principal[0]], [0.0, focal.focal_px, principal[1]], [0.0, 0.0, 1.0]]
        )
    columns = np.linalg.inv(intrinsics) @ floor_to_image
    scale = (np.linalg.norm(columns[:, 0]) + np.linalg.norm(columns[:, 1])) / 2.0
    columns = columns / scale
    # The floor seen at the image's bottom centre must lie in front of the camera (positive depth).
    probe = np.asarray(image_to_floor, dtype=np.float64) @ np.array(
        [resolution_wh[0] / 2.0, resolution_wh[1] - 1.0, 1.0]
    )
    if abs(probe[2]) > 1e-12 and (columns @ (probe / probe[2]))[2] < 0:
        columns = -columns
    # The nearest rotation to [r1 r2 r1xr2]: an estimated focal length leaves r1, r2 slightly skew.
    r1, r2, translation = columns[:, 0], columns[:, 1], columns[:, 2]
    u, _, vt = np.linalg.svd(np.column_stack((r1, r2, np.cross(r1, r2))))
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:
        rotation = -rotation
    centre = -rotation.T @ translation
    up = 1.0 if centre[2] >= 0 else -1.0
    projection = intrinsics @ np.column_stack((rotation[:, 0], rotation[:, 1], up * rotation[:, 2], translation))
    return projection, focal


def project_3d(
    *, points_m: np.ndarray, height_m: float | np.ndarray, projection: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Project floor points ``(n, 2)`` raised by ``height_m`` into undistorted pixels.

    Returns:
        Pixels ``(n, 2)`` (NaN behind the camera) and the depth ``(n,)`` along the optical axis
        up to the projection's scale (positive in front of the camera).
    """
    heights = np.broadcast_to(np.asarray(height_m, dtype=np.float64), (len(points_m),))
    homogeneous = np.column_stack((points_m, heights, np.ones(len(points_m)))) @ projection.T
    depth = homogeneous[:, 2]
    safe = np.where(depth > 1e-12, depth, np.nan)
    return homogeneous[:, :2] / safe[:, None], depth


def camera_centre_m(projection: np.ndarray) -> np.ndarray:
    """The camera centre ``(3,)`` in floor metres with height up: the projection's null space."""
    _, _, vt = np.linalg.svd(projection)
    centre = vt[-1]
    return centre[:3] / centre[3]


def roll_deg(*, projection: np.ndarray, floor_point_m: np.ndarray) -> float:
    """How far a vertical line standing on ``floor_point_m`` leans in the image, degrees.

    0 when it points straight up the image (a level camera), 90 when it points sideways.

    Raises:
        PoseError: the point is behind the camera.
    """
    point = np.asarray(floor_point_m, dtype=np.float64).reshape(1, 2)
    foot, foot_depth = project_3d(points_m=point, height_m=0.0, projection=projection)
    head, head_depth = project_3d(points_m=point, height_m=1.0, projection=projection)
    if foot_depth[0] <= 0 or head_depth[0] <= 0:
        raise PoseError("the reference floor point is behind the camera")
    dx, dy = (head - foot)[0]
    return float(np.degrees(np.arctan2(dx, -dy)))
