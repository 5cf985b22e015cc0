"""Which zone each floor position falls in, how much of each person stands in it, and its walkable floor.

Pure geometry over numpy arrays and shapely 2: the zones of one floor are indexed once, then
every step assigns all positions in one vectorised call (no per-point Python loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from iconizer.footprint import BODY_RADIUS_M, footprint_offsets_m
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
        walkable: The floor's walkable area (obstacles removed), metres.
    """

    zone_ids: tuple[str, ...]
    polygons: tuple[shapely.Geometry, ...]
    walkable_area_m2: np.ndarray
    walkable: shapely.Geometry
    _tree: shapely.STRtree
    _edges: shapely.Geometry

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
        shapely.prepare(walkable)
        # Where a body's footprint may be split: every zone edge and the walkable floor's edge.
        edges = shapely.union_all([walkable.boundary, *(p.boundary for p in polygons)])
        shapely.prepare(edges)
        return cls(tuple(z.id for z in zones), tuple(polygons), area_array, walkable, shapely.STRtree(polygons), edges)

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

    def occupancy(self, xy_m: npt.ArrayLike, body_radius_m: float = BODY_RADIUS_M) -> np.ndarray:
        """Persons per zone, each person counted by the share of their body's footprint inside it.

        Each position is the centre of a disc of ``body_radius_m`` (``iconizer.footprint``),
        represented by equal-area points; a zone counts the share of the disc's points inside it.
        Points on floor nobody can stand on (beyond a wall, in a pillar) are left out of the
        share: someone standing against a wall is wholly in the zone along it. A position whose
        whole disc is off the walkable floor (a foot point in a pillar's plan) keeps the share of
        the disc in the zone. Only positions within ``body_radius_m`` of a zone edge or of the
        floor's edge are sampled; the rest count wholly in each zone holding them. Zones may
        overlap: someone inside a gate area inside a concourse counts in both.

        Args:
            xy_m: Positions ``(n, 2)`` in metres.
            body_radius_m: Footprint radius, metres; 0 counts each point wholly in every zone
                holding it, as :meth:`counts` does.

        Returns:
            ``(z,)`` float persons, one per zone in ``zone_ids`` order.
        """
        if not (np.isfinite(body_radius_m) and body_radius_m >= 0):
            raise ValueError(f"body_radius_m must be finite and >= 0, got {body_radius_m}")
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        if body_radius_m == 0 or len(xy) == 0 or len(self) == 0:
            return self.counts(xy).astype(np.float64)
        near = shapely.dwithin(self._edges, shapely.points(xy), body_radius_m)
        whole = self.counts(xy[~near]).astype(np.float64)
        if not near.any():
            return whole
        offsets = footprint_offsets_m(body_radius_m)
        samples_xy = (xy[near][:, None, :] + offsets[None, :, :]).reshape(-1, 2)
        samples = shapely.points(samples_xy)
        person = np.repeat(np.arange(int(near.sum())), len(offsets))
        on_floor = shapely.intersects(self.walkable, samples)
        floor_points = np.bincount(person, weights=on_floor, minlength=int(near.sum()))
        # A disc wholly off the floor counts all of its points; otherwise only those on the floor.
        counted = on_floor | (floor_points == 0)[person]
        samples_idx, zones_idx = self._tree.query(samples, predicate="intersects")
        keep = counted[samples_idx]
        points_counted = np.bincount(person, weights=counted, minlength=int(near.sum()))
        weights = 1.0 / points_counted[person[samples_idx[keep]]]
        return whole + np.bincount(zones_idx[keep], weights=weights, minlength=len(self))

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
