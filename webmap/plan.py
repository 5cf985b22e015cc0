"""The station geometry the map draws (``GET /api/v1/stations/<id>/plan``), built once per station.

Plain data in plan metres: floors with their walkable areas, obstacles and features, each zone
with the anchor of its label, and, where a station check says what the cameras see, the
walkable floor no camera covers. Never a camera id, position or view (PRIVACY.md P1).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Polygon

from station import StationLayout
from webmap.checks import StationCheck
from webmap.plan_geometry import free_area_m, label_anchor_m, polygons_to_rings, rings_to_geometry, uncovered_m


def _text(text: Any) -> dict[str, str]:
    return {"ja": text.ja, "en": text.en}


def plan_document(layout: StationLayout, check: StationCheck | None = None) -> dict[str, Any]:
    """The plan of every floor of a station.

    Args:
        layout: The station.
        check: Its cameras' check; without one, ``uncovered_m`` is null (unknown), not empty.

    Returns:
        The document the plan endpoint serves (see ``webmap/openapi.py``, schema ``Plan``).
    """
    floors = []
    for floor in layout.floors:
        walkable = [Polygon(p) for p in floor.walkable_m]
        obstacles = [Polygon(p) for p in floor.obstacles_m]
        uncovered = None
        if check is not None:
            covered = rings_to_geometry(check.covered_m.get(floor.id, []))
            uncovered = polygons_to_rings(uncovered_m(floor.walkable, covered))
        floors.append(
            {
                "id": floor.id,
                "name": _text(floor.name),
                "size_m": list(floor.size_m),
                "walkable_m": [[list(p) for p in poly] for poly in floor.walkable_m],
                "obstacles_m": [[list(p) for p in poly] for poly in floor.obstacles_m],
                "features": [
                    {
                        "kind": feature.kind,
                        "label": None if feature.label is None else _text(feature.label),
                        "polygon_m": [list(p) for p in feature.polygon_m],
                    }
                    for feature in floor.features
                ],
                "zones": [
                    {
                        "id": z.id,
                        "name": _text(z.name),
                        "kind": z.kind,
                        "polygon_m": [list(p) for p in z.polygon_m],
                        "label_m": list(label_anchor_m(free_area_m(z.polygon, walkable, obstacles))),
                    }
                    for z in layout.zones_on(floor.id)
                ],
                "uncovered_m": uncovered,
            }
        )
    return {
        "station": layout.station.id,
        "name": _text(layout.station.name),
        "simulated": layout.station.simulated,
        "frame_interval_s": layout.publishing.frame_interval_s,
        "stale_after_s": layout.publishing.stale_after_s,
        "floors": floors,
    }
