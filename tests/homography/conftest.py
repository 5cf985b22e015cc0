"""Paths to the shared evaluation data and small builders for the homography tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from homography.calibration import Calibration
from homography.fitting import calibration_from_model
from homography.wildtrack import WILDTRACK_RESOLUTION_WH, load_wildtrack_camera
from station import Floor, Text

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
WILDTRACK = DATA / "wildtrack"
PETS = DATA / "pets2009_s2l1"
PETS_LAYOUT = ROOT / "station_layouts" / "pets2009"
PETS_RESOLUTION_WH = (768, 576)
# PETS2009 View_001's official image-to-ground homography (metres).
PETS_H = np.loadtxt(PETS / "calibration" / "H_image_to_ground_m_View001.txt")
# Eight pixels spread over the lower image (the floor) and their floor points through PETS_H.
GRID_PX = np.array(
    [[60, 250], [380, 220], [700, 240], [100, 400], [400, 380], [680, 420], [200, 540], [600, 560]], dtype=float
)


def floor_of(points_px: np.ndarray, matrix: np.ndarray = PETS_H) -> np.ndarray:
    """Pixels ``(n, 2)`` through a homography, with no calibration checks (the test's own arithmetic)."""
    homogeneous = np.column_stack((points_px, np.ones(len(points_px)))) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:]


GRID_M = floor_of(GRID_PX)


def make_floor(width_m: float = 10.0, height_m: float = 10.0, floor_id: str = "f1") -> Floor:
    """A rectangular, fully walkable floor."""
    return Floor(
        id=floor_id,
        name=Text(ja="床", en="floor"),
        size_m=(width_m, height_m),
        walkable_m=[[(0.0, 0.0), (width_m, 0.0), (width_m, height_m), (0.0, height_m)]],
    )


def wildtrack_calibration(camera: str, *, undistorted: bool = True) -> Calibration:
    """One WILDTRACK camera's calibration from its full model."""
    return calibration_from_model(
        load_wildtrack_camera(WILDTRACK, camera, undistorted=undistorted), WILDTRACK_RESOLUTION_WH
    )


def pets_ground_truth() -> tuple[np.ndarray, np.ndarray]:
    """PETS2009 S2L1 View_001 foot points ``(n, 2)`` px and their ground positions ``(n, 2)`` m (Tsai model)."""
    table = np.loadtxt(PETS / "ground_truth" / "gt_full_ground_dev.csv", delimiter=",", skiprows=1)
    return table[:, 2:4], table[:, 4:6]


@pytest.fixture(scope="session")
def pets_truth() -> tuple[np.ndarray, np.ndarray]:
    return pets_ground_truth()
