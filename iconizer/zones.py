"""Which zone each floor position falls in, and how much walkable floor each zone has.

Pure geometry over numpy arrays and shapely 2: the zones of one floor are indexed once, then
every step assigns all positions in one vectorised call (no per-point Python loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from station import Floor, Zone

NO_ZONE = -1


@dataclass(frozen=True)
class ZoneIndex:
    """The zones of one floor, ready for vectorised point assignment.

    Attributes:
        zone_ids: Zone ids in layout order; index ``i`` everywhere below refers to ``zone_ids[i]``.
        polygons: Zone polygons in metres, prepared for fast predicates.
        walkable_area_m2: ``(z,)`` walkable area of each zone (zone polygon intersected with the
            floor's walkable area, obstacles removed), square metres, all positive.
    """

    zone_ids: tuple[str, ...]
    polygons: tuple[shapely.Geometry, ...]
    walkable_area_m2: np.ndarray
    _tree: shapely.STRtree

    @classmethod
    def build(cls, floor: Floor, zones: list[Zone]) -> ZoneIndex:
        """Index the zones of ``floor``.

        Raises:
            ValueError: if a zone is on another floor or has no walkable area.
        """
        walkable = floor.walkable
        polygons = []
        areas = []
        for zone in zones:
            if zone.floor != floor.id:
                raise ValueError(f"zone {zone.id!r} is on floor {zone.floor!r}, expected {floor.id!r}")
            polygon = zone.polygon
            area_m2 = polygon.intersection(walkable).area
            if area_m2 <= 0:
                raise ValueError(f"zone {zone.id!r} has no walkable area on floor {floor.id!r}")
            shapely.prepare(polygon)
            polygons.append(polygon)
            areas.append(area_m2)
        area_array = np.array(areas, dtype=np.float64)
        area_array.flags.writeable = False
        return cls(tuple(z.id for z in zones), tuple(polygons), area_array, shapely.STRtree(polygons))

    def __len__(self) -> int:
        return len(self.zone_ids)

    def memberships(self, xy_m: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """All (point, zone) pairs where the point lies inside (or on the edge of) the zone.

        Zones may overlap (a gate area inside a concourse), so one point can count in several.

        Args:
            xy_m: Positions ``(n, 2)`` in metres.

        Returns:
            ``(point_index, zone_index)``, two int arrays of equal length.
        """
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        if len(xy) == 0 or len(self) == 0:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty
        # "intersects" rather than "within": a point exactly on a shared edge belongs to both
        # zones instead of vanishing from both; coarsened dots land on grid lines often.
        points_idx, zones_idx = self._tree.query(shapely.points(xy), predicate="intersects")
        return points_idx.astype(np.intp), zones_idx.astype(np.intp)

    def counts(self, xy_m: npt.ArrayLike) -> np.ndarray:
        """People per zone.

        Args:
            xy_m: Positions ``(n, 2)`` in metres.

        Returns:
            ``(z,)`` int counts, one per zone in ``zone_ids`` order.
        """
        _, zones_idx = self.memberships(xy_m)
        return np.bincount(zones_idx, minlength=len(self)).astype(np.int64)

    def zone_index(self, xy_m: npt.ArrayLike) -> np.ndarray:
        """The first zone (layout order) holding each point, :data:`NO_ZONE` when none.

        Args:
            xy_m: Positions ``(n, 2)`` in metres.

        Returns:
            ``(n,)`` int zone indices.
        """
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        out = np.full(len(xy), NO_ZONE, dtype=np.intp)
        points_idx, zones_idx = self.memberships(xy)
        # Write in reverse layout order so that the first zone wins for overlapping zones.
        order = np.argsort(-zones_idx, kind="stable")
        out[points_idx[order]] = zones_idx[order]
        return out
