"""What the operator's home page shows of each station: its cameras' calibration, coverage and state.

Plain rows for ``templates/operator.html``, from the station check (fitted outside the web
process, see :mod:`webmap.checks`) and the cameras' live reports. No image, ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station import StationLayout
from webmap.checks import StationCheck
from webmap.plan_geometry import rings_to_geometry


@dataclass(frozen=True)
class FloorCoverage:
    """How much of a floor's walkable area the cameras see together."""

    floor_id: str
    name: dict[str, str]
    walkable_m2: float
    covered_m2: float

    @property
    def percent(self) -> float:
        """Covered share of the walkable floor, 0-100."""
        return 100.0 * self.covered_m2 / self.walkable_m2 if self.walkable_m2 else 0.0


def floor_coverage(layout: StationLayout, check: StationCheck) -> list[FloorCoverage]:
    """Each floor's walkable area and the part of it the cameras see."""
    out = []
    for floor in layout.floors:
        walkable = floor.walkable
        covered = rings_to_geometry(check.covered_m.get(floor.id, [])).intersection(walkable)
        out.append(
            FloorCoverage(
                floor.id, {"ja": floor.name.ja, "en": floor.name.en}, float(walkable.area), float(covered.area)
            )
        )
    return out


def camera_rows(
    layout: StationLayout, check: StationCheck | None, health: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per camera of the layout: its check (None without one) and its live report."""
    checked = {} if check is None else {c.camera_id: c for c in check.cameras}
    live = {h["camera"]: h for h in health}
    zone_names = {z.id: {"ja": z.name.ja, "en": z.name.en} for z in layout.zones}
    rows = []
    for camera in layout.cameras:
        result = checked.get(camera.id)
        rows.append(
            {
                "id": camera.id,
                "floor": {"ja": layout.floor(camera.floor).name.ja, "en": layout.floor(camera.floor).name.en},
                "check": result,
                "zones": [zone_names[z] for z in (result.zones if result else ()) if z in zone_names],
                "state": live.get(camera.id, {}).get("state", "unknown"),
                "ok": result is not None and result.error is None,
            }
        )
    return rows


def camera_places(layout: StationLayout, check: StationCheck | None) -> list[dict[str, Any]]:
    """Where a station's cameras are, for the public notice: per floor, how many, and what they see.

    Floors and zone names only (what the layout already publishes), never a camera id or view.
    Without a check, the areas seen are unknown (an empty list).
    """
    seen = {} if check is None else check.camera_zones
    names = {z.id: {"ja": z.name.ja, "en": z.name.en} for z in layout.zones}
    places = []
    for floor in layout.floors:
        cameras = [c for c in layout.cameras if c.floor == floor.id]
        if not cameras:
            continue
        covered = {zone for c in cameras for zone in seen.get(c.id, ())}
        places.append(
            {
                "floor": {"ja": floor.name.ja, "en": floor.name.en},
                "count": len(cameras),
                "zones": [names[z.id] for z in layout.zones_on(floor.id) if z.id in covered],
            }
        )
    return places
