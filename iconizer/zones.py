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
class _Reach:
    """Where a body's footprint of one radius can be split between zones, prepared once per floor.

    A person counts wholly in each zone holding them, with no sampling, where their disc lies
    wholly inside or wholly outside every zone: then the zones whose core (shrunk by the radius)
    holds the position are the zones whose reach (grown by the radius) holds it. Walls do not
    matter there: the disc's points on the floor are all in the same zones, whatever their number.
    """

    cores: shapely.STRtree
    reaches: shapely.STRtree
    offsets_m: np.ndarray

    @classmethod
    def build(cls, polygons: tuple[shapely.Geometry, ...], radius_m: float) -> _Reach:
        # Cores: round joins, the true distance set with its arcs drawn by chords at most 0.12 % of
        # the radius inside it; the footprint's outermost point lies 0.8 % of the radius inside the
        # radius (footprint_offsets_m), so a position in a core has all its points in the zone.
        # Reaches: mitre joins, a few vertices instead of hundreds of arc points, and a superset of
        # the true one (a position there that no footprint point can reach is merely sampled).
        def shrunk(geometry: shapely.Geometry) -> shapely.Geometry:
            result = shapely.buffer(geometry, -radius_m, quad_segs=32)
            shapely.prepare(result)
            return result

        def grown(geometry: shapely.Geometry) -> shapely.Geometry:
            result = shapely.buffer(geometry, radius_m, join_style="mitre", mitre_limit=2.0)
            shapely.prepare(result)
            return result

        return cls(
            cores=shapely.STRtree([shrunk(p) for p in polygons]),
            reaches=shapely.STRtree([grown(p) for p in polygons]),
            offsets_m=footprint_offsets_m(radius_m),
        )


@dataclass(frozen=True)
class ZoneIndex:
    """The zones of one floor, ready for vectorised point assignment.

    Attributes:
        zone_ids: Zone ids in layout order; index ``i`` everywhere below refers to ``zone_ids[i]``.
        polygons: Zone polygons in metres, prepared for fast predicates.
        walkable_area_m2: ``(z,)`` walkable area of each zone (zone polygon intersected with the
            floor's walkable area, obstacles removed), square metres, all positive.
        walkable: The floor's walkable area (obstacles removed), metres.
        body_radius_m: Radius of the body footprint :meth:`occupancy` counts people by, metres
            (``iconizer.footprint``); 0 counts points.
    """

    zone_ids: tuple[str, ...]
    polygons: tuple[shapely.Geometry, ...]
    walkable_area_m2: np.ndarray
    walkable: shapely.Geometry
    body_radius_m: float
    _tree: shapely.STRtree
    _reach: _Reach | None

    @classmethod
    def build(cls, floor: Floor, zones: list[Zone], body_radius_m: float = BODY_RADIUS_M) -> ZoneIndex:
        """Index the zones of ``floor``, for footprints of ``body_radius_m``.

        Raises:
            ValueError: if a zone is on another floor or has no walkable area, or the radius is
                negative or not finite.
        """
        if not (np.isfinite(body_radius_m) and body_radius_m >= 0):
            raise ValueError(f"body_radius_m must be finite and >= 0, got {body_radius_m}")
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
        reach = _Reach.build(tuple(polygons), body_radius_m) if body_radius_m > 0 else None
        return cls(
            tuple(z.id for z in zones),
            tuple(polygons),
            area_array,
            walkable,
            float(body_radius_m),
            shapely.STRtree(polygons),
            reach,
        )

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

    def occupancy(self, xy_m: npt.ArrayLike) -> np.ndarray:
        """Persons per zone, each person counted by the share of their body's footprint inside it.

        Each position is the centre of a disc of ``body_radius_m`` (``iconizer.footprint``),
        represented by equal-area points; a zone counts the share of the disc's points inside it.
        Points on floor nobody can stand on (beyond a wall, in a pillar) are left out of the
        share: someone standing against a wall is wholly in the zone along it. A position whose
        whole disc is off the walkable floor (a foot point in a pillar's plan) keeps the share of
        the disc in the zone. Only positions whose disc meets a zone edge are sampled; the rest
        count wholly in each zone holding them. Zones may overlap: someone inside a gate area
        inside a concourse counts in both. With ``body_radius_m`` 0 every point counts wholly in
        every zone holding it, as :meth:`counts` does.

        Args:
            xy_m: Positions ``(n, 2)`` in metres.

        Returns:
            ``(z,)`` float persons, one per zone in ``zone_ids`` order.
        """
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        reach = self._reach
        if reach is None or len(xy) == 0 or len(self) == 0:
            return self.counts(xy).astype(np.float64)
        points = shapely.points(xy)
        core_points, core_zones = reach.cores.query(points, predicate="intersects")
        reach_points, reach_zones = reach.reaches.query(points, predicate="intersects")
        # Cores lie inside reaches: the same number of zones means the same zones.
        clear = np.bincount(core_points, minlength=len(xy)) == np.bincount(reach_points, minlength=len(xy))
        occupancy = np.bincount(core_zones[clear[core_points]], minlength=len(self)).astype(np.float64)
        split = np.flatnonzero(~clear)
        if len(split) == 0:
            return occupancy
        # The footprints that meet an edge, as points: (split, k) coordinates.
        sample_x = xy[split, 0, None] + reach.offsets_m[None, :, 0]
        sample_y = xy[split, 1, None] + reach.offsets_m[None, :, 1]
        on_floor = shapely.intersects_xy(self.walkable, sample_x, sample_y)
        # A disc wholly off the floor counts all of its points; otherwise only those on the floor.
        counted = on_floor | ~on_floor.any(axis=1, keepdims=True)
        per_point = 1.0 / counted.sum(axis=1)
        row = np.full(len(xy), -1, dtype=np.intp)
        row[split] = np.arange(len(split))
        near = row[reach_points] >= 0
        persons, zones = row[reach_points[near]], reach_zones[near]
        polygons = np.asarray(self.polygons, dtype=object)[zones]
        inside = shapely.intersects_xy(polygons[:, None], sample_x[persons], sample_y[persons]) & counted[persons]
        occupancy += np.bincount(zones, weights=inside.sum(axis=1) * per_point[persons], minlength=len(self))
        return occupancy

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
