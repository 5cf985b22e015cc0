"""Place a simulated camera: a pinhole camera model from where it hangs and what it looks at.

Used to write the ``camera_model`` calibrations of the simulated demo station, and by the tests
to check them. Pure numpy and OpenCV geometry.

Frames: the world frame is the floor plan's frame (metres, x to the right, y down the plan) with
z pointing *into* the floor, so that the frame is right-handed; a camera mounted ``height_m``
above the floor therefore sits at ``z = -height_m``. The camera frame is OpenCV's (x right, y down
the image, z along the optical axis).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The world's "up" in a frame whose z points into the floor.
WORLD_UP = np.array([0.0, 0.0, -1.0])


@dataclass(frozen=True)
class Pose:
    """Where a camera is and which way it looks.

    Attributes:
        rvec: Rodrigues rotation ``(3,)`` from world to camera.
        tvec_m: Translation ``(3,)`` from world to camera, metres.
    """

    rvec: np.ndarray
    tvec_m: np.ndarray


def look_at(*, position_m: tuple[float, float], height_m: float, target_m: tuple[float, float]) -> Pose:
    """The pose of a level camera (no roll) at ``position_m`` looking at a floor point.

    Args:
        position_m: Camera position on the plan ``(x, y)``, metres.
        height_m: Mounting height above the floor, metres (positive).
        target_m: The floor point ``(x, y)`` on the optical axis, metres.

    Raises:
        ValueError: a non-positive height, or a target straight below the camera (the image's
            horizontal direction is undefined there).
    """
    if height_m <= 0:
        raise ValueError(f"height_m must be positive, got {height_m}")
    centre = np.array([position_m[0], position_m[1], -height_m], dtype=np.float64)
    forward = np.array([target_m[0], target_m[1], 0.0]) - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, WORLD_UP)
    if np.linalg.norm(right) < 1e-6:
        raise ValueError("target_m lies straight below the camera; give a tilted view")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.vstack((right, down, forward))
    rvec, _ = cv2.Rodrigues(rotation)
    return Pose(rvec=rvec.reshape(3), tvec_m=-rotation @ centre)


def intrinsics(*, resolution_wh: tuple[int, int], horizontal_fov_deg: float) -> np.ndarray:
    """A distortion-free camera matrix ``(3, 3)`` with square pixels and a centred principal point."""
    width, height = resolution_wh
    focal_px = (width / 2.0) / np.tan(np.radians(horizontal_fov_deg) / 2.0)
    return np.array([[focal_px, 0.0, width / 2.0], [0.0, focal_px, height / 2.0], [0.0, 0.0, 1.0]])


def camera_depth_m(*, points_m: np.ndarray, height_m: float, pose: Pose) -> np.ndarray:
    """Depth ``(n,)`` along the optical axis of points ``(n, 2)`` raised ``height_m`` above the floor.

    Negative depth means the point is behind the camera.
    """
    rotation, _ = cv2.Rodrigues(np.asarray(pose.rvec, dtype=np.float64))
    world = np.column_stack((points_m, np.full(len(points_m), -height_m)))
    return (world @ rotation.T + pose.tvec_m)[:, 2]
