"""Geometry the public map draws besides the layout's own.

Where each zone's label goes, and which floor no camera sees. Pure shapely; plan metres in,
plan metres out.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import nearest_points, polylabel

# Labels are wider than tall (a name over a level word): the anchor is the centre of the widest
# free ellipse of this width-to-height ratio, not of the widest circle, so a label in an L-shaped
# zone goes into the arm with room for a line of text rather than into a square corner.
LABEL_ASPECT = 2.5
# Obstacles smaller than this (columns, bins) do not push a label aside: text may cross a column,
# and a row of columns down a platform would otherwise pull every label off centre.
MIN_OBSTACLE_M2 = 4.0
# Among spots with nearly the most room (a long corridor has many), the one nearest the middle.
_ROOM_SLACK = 0.05

Ring = list[list[float]]


def _parts(geometry: shapely.Geometry) -> list[Polygon]:
    return [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon) and not g.is_empty]


def free_area_m(zone: Polygon, walkable_m: Sequence[Polygon], obstacles_m: Sequence[Polygon]) -> shapely.Geometry:
    """The part of a zone a label may use: walkable, outside every obstacle of ``MIN_OBSTACLE_M2`` or more."""
    area = shapely.union_all(list(walkable_m)).intersection(zone)
    big = [o for o in obstacles_m if o.area >= MIN_OBSTACLE_M2]
    return area.difference(shapely.union_all(big)) if big else area


def label_anchor_m(free: shapely.Geometry, *, aspect: float = LABEL_ASPECT) -> tuple[float, float]:
    """The point of a zone's free area with the most room around it, for the zone's label.

    The pole of inaccessibility (``polylabel``) of the free area, found with x squeezed by
    ``aspect`` so it favours room for a wide label; among spots with nearly as much room (a long
    corridor), the one nearest the part's middle. Where the free area falls apart (a zone cut
    in two by an obstacle), the part with the most room wins.

    Args:
        free: The zone's free area (:func:`free_area_m`), metres.
        aspect: Width-to-height ratio of the free area looked for.

    Returns:
        ``(x_m, y_m)`` inside ``free``, rounded to 1 cm.

    Raises:
        ValueError: if ``free`` has no area.
    """
    best: tuple[float, Polygon, Polygon] | None = None
    for part in _parts(free):
        squeezed = affinity.scale(part, xfact=1.0 / aspect, yfact=1.0, origin=(0.0, 0.0))
        x0, y0, x1, y1 = squeezed.bounds
        pole = polylabel(squeezed, tolerance=max(1e-3, min(x1 - x0, y1 - y0) / 200.0))
        room = float(pole.distance(squeezed.boundary))
        if best is None or room > best[0]:
            best = (room, squeezed, pole)
    if best is None:
        raise ValueError("a zone label needs a free area with some area, got none")
    room, squeezed, pole = best
    roomy = squeezed.buffer(-(1.0 - _ROOM_SLACK) * room)
    middle = squeezed.centroid
    spot = pole if roomy.is_empty else nearest_points(roomy, middle)[0]
    if not squeezed.contains(spot):
        spot = pole
    return round(spot.x * aspect, 2), round(spot.y, 2)


def polygons_to_rings(geometry: shapely.Geometry, *, decimals: int = 2) -> list[list[Ring]]:
    """A (multi)polygon as ``[[exterior, hole, ...], ...]``, each ring a list of ``[x_m, y_m]``.

    Rings are open (the first point is not repeated) and rounded to ``decimals``.
    """

    def ring(coords: Sequence[tuple[float, ...]]) -> Ring:
        points = [[round(float(x), decimals), round(float(y), decimals)] for x, y, *_ in coords]
        return points[:-1] if len(points) > 1 and points[0] == points[-1] else points

    return [[ring(p.exterior.coords), *(ring(h.coords) for h in p.interiors)] for p in _parts(geometry)]


def rings_to_geometry(polygons: Sequence[Sequence[Sequence[Sequence[float]]]]) -> shapely.Geometry:
    """The inverse of :func:`polygons_to_rings` (invalid input is repaired, never trusted).

    Raises:
        ValueError: for a ring of fewer than 3 points or a point that is not ``[x, y]``.
    """
    shapes = []
    for i, rings in enumerate(polygons):
        if not rings:
            raise ValueError(f"polygon {i} has no rings")
        for ring in rings:
            if len(ring) < 3 or any(len(point) != 2 for point in ring):
                raise ValueError(f"polygon {i}: a ring needs 3 or more [x, y] points")
        shapes.append(shapely.make_valid(Polygon(rings[0], rings[1:])))
    return shapely.union_all(shapes) if shapes else MultiPolygon()


def uncovered_m(walkable: shapely.Geometry, covered: shapely.Geometry, *, min_area_m2: float = 0.5) -> shapely.Geometry:
    """Walkable floor that no camera sees: ``walkable - covered``, without slivers below ``min_area_m2``."""
    rest = walkable.difference(covered)
    parts = [p for p in _parts(rest) if p.area >= min_area_m2]
    return shapely.union_all(parts) if parts else MultiPolygon()
