"""Builders for iconizer tests: a toy two-floor station and positions from plain lists."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from homography.types import FloorPositions
from station import NOTICE_TEXT_FIELDS, StationLayout, parse_layout

NOTICE = {
    **{key: {"ja": "テスト", "en": "test"} for key in NOTICE_TEXT_FIELDS},
    "contact_details": {"email": "privacy@toy.example"},
}


def toy_layout_mapping() -> dict[str, Any]:
    """A 20 m x 10 m hall split in two 10 m x 10 m zones (west has a 2 m x 2 m pillar), plus a
    platform floor with one queuing zone; cam-w sees the west half, cam-e the east, cam-p the platform."""
    return {
        "format_version": 1,
        "station": {"id": "toy", "name": {"ja": "テスト駅", "en": "Toy"}},
        "notice": NOTICE,
        "publishing": {"coarsen_m": 0.5, "density_window_s": 0.0, "stale_after_s": 5.0},
        "floors": [
            {
                "id": "hall",
                "name": {"ja": "コンコース", "en": "Hall"},
                "size_m": [20.0, 10.0],
                "walkable_m": [[[0, 0], [20, 0], [20, 10], [0, 10]]],
                "obstacles_m": [[[4, 4], [6, 4], [6, 6], [4, 6]]],
            },
            {
                "id": "platform",
                "name": {"ja": "ホーム", "en": "Platform"},
                "size_m": [30.0, 5.0],
                "walkable_m": [[[0, 0], [30, 0], [30, 5], [0, 5]]],
            },
        ],
        "zones": [
            {
                "id": "west",
                "floor": "hall",
                "name": {"ja": "西", "en": "West"},
                "kind": "walkway",
                "polygon_m": [[0, 0], [10, 0], [10, 10], [0, 10]],
            },
            {
                "id": "east",
                "floor": "hall",
                "name": {"ja": "東", "en": "East"},
                "kind": "walkway",
                "polygon_m": [[10, 0], [20, 0], [20, 10], [10, 10]],
            },
            {
                "id": "track1",
                "floor": "platform",
                "name": {"ja": "1番線", "en": "Track 1"},
                "kind": "queuing",
                "polygon_m": [[0, 0], [30, 0], [30, 5], [0, 5]],
            },
        ],
        "cameras": [
            {
                "id": camera_id,
                "floor": floor,
                "source": "sim",
                "resolution_wh": [640, 480],
                "calibration": {"image_to_floor": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
            }
            for camera_id, floor in (("cam-w", "hall"), ("cam-e", "hall"), ("cam-p", "platform"))
        ],
    }


@pytest.fixture
def toy_layout() -> StationLayout:
    return parse_layout(toy_layout_mapping())


def positions_of(camera_id: str, floor_id: str, t: float, xy: Any) -> FloorPositions:
    xy_m = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return FloorPositions(camera_id, floor_id, t, xy_m, np.ones(len(xy_m)), np.full(len(xy_m), 0.2))


@pytest.fixture
def make_positions():
    """``make_positions(camera_id, floor_id, t, xy)`` -> FloorPositions with unit confidence."""
    return positions_of
