"""Which part of the floor a camera sees: its usable image area projected onto the plan.

Used to tell which zones a camera covers (a dead camera makes only those stale) and drawn on
the plan in the calibration tool. Pure shapely and numpy geometry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

from homography.calibration import Calibration
from homography.projection import apply_homography, local_scale_m_per_px, undistort_px
from station import Floor, Zone

# Beyond this many floor metres per pixel a foot point error of a few pixels spans metres: the
# image area there is not usable for placing people, though the floor is in view.
DEFAULT_MAX_M_PER_PX = 0.5
# Points of the image border sampled per side, so lens distortion bends the outline correctly.
_BORDER_SAMPLES = 64
# Grid used to find where the image stops being usable (per side).
_SCALE_GRID = 96


def _image_outline_undistorted(calib: Calibration) -> Polygon:
    """The raw image's border, undistorted, as a polygon in undistorted pixels."""
    width, height = calib.resolution_wh
    t = np.linspace(0.0, 1.0, _BORDER_SAMPLES, endpoint=False)
    x_max, y_max = width - 1.0, height - 1.0
    border = np.concatenate(
        (
            np.column_stack((t * x_max, np.zeros_like(t))),
            np.column_stack((np.full_like(t, x_max), t * y_max)),
            np.column_stack(((1 - t) * x_max, np.full_like(t, y_max))),
            np.column_stack((np.zeros_like(t), (1 - t) * y_max)),
        )
    )
    outline = shapely.make_valid(Polygon(undistort_px(points_px=border, calib=calib)))
    return outline if not outline.is_empty else Polygon()


def _floor_side(calib: Calibration, min_w: float, extent_px: float) -> Polygon:
    """The half-plane of undistorted pixels where ``sign * w >= min_w``, as a large polygon."""
    a, b, c = calib.image_to_floor[2] * calib.horizon_sign
    norm = float(np.hypot(a, b))
    if norm < 1e-15:
        # No horizon in the image plane: the whole plane is on one side.
        return shapely.box(-extent_px, -extent_px, extent_px, extent_px) if c >= min_w else Polygon()
    normal = np.array([a, b]) / norm
    # The point on the boundary line a u + b v + c = min_w closest to the origin.
    base = normal * (min_w - c) / norm
    extent_px += float(np.linalg.norm(base))
    along = np.array([-normal[1], normal[0]]) * extent_px
    inward = normal * extent_px
    corners = [base - along, base + along, base + along + inward, base - along + inward]
    return Polygon(corners)


def _usable_w(calib: Calibration, outline: Polygon, max_m_per_px: float | None) -> float:
    """Smallest ``sign * w`` still usable: finite projections, and under ``max_m_per_px``."""
    x0, y0, x1, y1 = outline.bounds
    corners = np.array([[x0, y0, 1.0], [x1, y0, 1.0], [x1, y1, 1.0], [x0, y1, 1.0]])
    numerators = np.abs(corners @ calib.image_to_floor[:2].T).max()
    # Keep every projected vertex within 100 km of the plan origin, so shapely stays exact.
    min_w = max(numerators / 1e5, 1e-12)
    if max_m_per_px is None:
        return min_w
    uu, vv = np.meshgrid(np.linspace(x0, x1, _SCALE_GRID), np.linspace(y0, y1, _SCALE_GRID))
    grid = np.column_stack((uu.ravel(), vv.ravel()))
    w = (np.column_stack((grid, np.ones(len(grid)))) @ calib.image_to_floor[2]) * calib.horizon_sign
    coarse = local_scale_m_per_px(points_px=grid, calib=calib) > max_m_per_px
    coarse &= w > 0
    # Iso-scale lines of a homography run close to parallel to its horizon, so a cut along a
    # line of constant w keeps the image usable: conservatively, below every too-coarse sample.
    return max(min_w, float(w[coarse].max())) if np.any(coarse) else min_w


def coverage_polygon(
    calib: Calibration, floor: Floor, *, max_m_per_px: float | None = DEFAULT_MAX_M_PER_PX
) -> shapely.Geometry:
    """The floor area a camera sees usably, clipped to the floor's walkable area.

    Args:
        calib: The camera's calibration.
        floor: Its floor.
        max_m_per_px: Leave out the far field where one pixel spans more floor than this
            (metres); None keeps everything below the horizon.

    Returns:
        A (multi)polygon in plan metres; empty when the camera sees none of the walkable floor.
    """
    outline = _image_outline_undistorted(calib)
    if outline.is_empty:
        return Polygon()
    extent = 10.0 * max(abs(c) for c in outline.bounds) + 10.0 * max(calib.resolution_wh)
    visible = outline.intersection(_floor_side(calib, _usable_w(calib, outline, max_m_per_px), extent))
    parts = []
    for part in shapely.get_parts(visible):
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        # A homography maps straight edges to straight edges on this side of the horizon, so the
        # vertices suffice; holes cannot occur in an image outline.
        vertices = np.asarray(part.exterior.coords)
        floor_xy, _ = apply_homography(points=vertices, matrix=calib.image_to_floor)
        if np.all(np.isfinite(floor_xy)):
            parts.append(shapely.make_valid(Polygon(floor_xy)))
    if not parts:
        return Polygon()
    covered = shapely.union_all(parts).intersection(floor.walkable)
    return _polygonal(covered)


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """Drop points and lines that intersections leave on polygon borders."""
    if isinstance(geometry, shapely.GeometryCollection) and not isinstance(geometry, shapely.MultiPolygon):
        polygons = [g for g in geometry.geoms if isinstance(g, Polygon | shapely.MultiPolygon) and not g.is_empty]
        return shapely.union_all(polygons) if polygons else Polygon()
    return geometry if isinstance(geometry, Polygon | shapely.MultiPolygon) else Polygon()


def floor_coverage(coverages: Iterable[shapely.Geometry]) -> shapely.Geometry:
    """The union of several cameras' coverage polygons on one floor."""
    geometries = [g for g in coverages if not g.is_empty]
    return _polygonal(shapely.union_all(geometries)) if geometries else Polygon()


def zone_coverage_fraction(coverage: shapely.Geometry, zones: Sequence[Zone]) -> dict[str, float]:
    """Fraction (0..1) of each zone's area that ``coverage`` sees, by zone id."""
    return {
        zone.id: float(zone.polygon.intersection(coverage).area / zone.polygon.area) if zone.polygon.area else 0.0
        for zone in zones
    }
