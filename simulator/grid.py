"""Rasters of one floor for the simulation: walkable cells, walls and flow fields.

Where people may stand, how far the nearest wall is, and flow fields that lead around obstacles
to a set of targets.

Pure numpy, OpenCV and shapely; built once per floor and shared read-only by every agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import shapely

# Collision raster: fine enough that a 0.8 m gate lane is 8 cells wide.
CELL_M = 0.1
# Flow-field raster: coarse, because a field is computed per target at start-up; people steer
# straight at their target once they are close, so the coarseness never shows at the end.
FIELD_CELL_M = 0.5
# Flow fields keep this far from walls so that people do not scrape along them.
FIELD_CLEARANCE_M = 0.2

_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _cell_centres(size_m: tuple[float, float], cell_m: float) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    cols = int(np.ceil(size_m[0] / cell_m))
    rows = int(np.ceil(size_m[1] / cell_m))
    xs = (np.arange(cols) + 0.5) * cell_m
    ys = (np.arange(rows) + 0.5) * cell_m
    grid_x, grid_y = np.meshgrid(xs, ys)
    return grid_x, grid_y, (rows, cols)


def _cells(points_m: np.ndarray, cell_m: float, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of each point ``(n, 2)``, clipped, and whether it lay on the raster."""
    cols = np.floor(points_m[:, 0] / cell_m).astype(np.int64)
    rows = np.floor(points_m[:, 1] / cell_m).astype(np.int64)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    # np.minimum/np.maximum: np.clip's overhead dominates on the small arrays of one step.
    rows = np.minimum(np.maximum(rows, 0), shape[0] - 1)
    cols = np.minimum(np.maximum(cols, 0), shape[1] - 1)
    return rows, cols, inside


@dataclass(frozen=True)
class FloorGrid:
    """Where people may stand on one floor, and the distance and direction away from walls.

    Attributes:
        walkable: ``(rows, cols)`` bool raster at ``CELL_M``; True where a foot may be.
        wall_distance_m: ``(rows, cols)`` distance from each cell to the nearest wall or obstacle.
        away_from_wall: ``(rows, cols, 2)`` unit vectors pointing away from the nearest wall.
    """

    walkable: np.ndarray
    wall_distance_m: np.ndarray
    away_from_wall: np.ndarray

    @classmethod
    def build(cls, *, area: shapely.Geometry, size_m: tuple[float, float]) -> FloorGrid:
        """Rasterise a walkable area (obstacles already removed) of a plan ``size_m`` metres."""
        grid_x, grid_y, shape = _cell_centres(size_m, CELL_M)
        walkable = shapely.contains_xy(area, grid_x.ravel(), grid_y.ravel()).reshape(shape)
        # A zero border so that the plan's edge counts as a wall.
        padded = np.pad(walkable.astype(np.uint8), 1)
        distance = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1] * CELL_M
        grad_y, grad_x = np.gradient(distance)
        away = np.stack((grad_x, grad_y), axis=-1)
        norm = np.linalg.norm(away, axis=-1, keepdims=True)
        away = np.where(norm > 1e-9, away / np.maximum(norm, 1e-9), 0.0).astype(np.float32)
        for array in (walkable, distance, away):
            array.flags.writeable = False
        return cls(walkable=walkable, wall_distance_m=distance.astype(np.float32), away_from_wall=away)

    def is_walkable(self, points_m: np.ndarray) -> np.ndarray:
        """Whether each point ``(n, 2)`` lies on walkable floor ``(n,)``."""
        rows, cols, inside = _cells(points_m, CELL_M, self.walkable.shape)
        return inside & self.walkable[rows, cols]

    def wall(self, points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance ``(n,)`` to the nearest wall and the unit direction away from it ``(n, 2)``."""
        rows, cols, _ = _cells(points_m, CELL_M, self.walkable.shape)
        return self.wall_distance_m[rows, cols], self.away_from_wall[rows, cols]


@dataclass(frozen=True)
class FlowFields:
    """For each of T targets, the walking direction from every cell along the shortest path.

    Attributes:
        directions: ``(T, rows, cols, 2)`` unit vectors (zero at the target and where no path exists).
        distance_m: ``(T, rows, cols)`` walking distance to the target (inf where unreachable).
    """

    directions: np.ndarray
    distance_m: np.ndarray

    @classmethod
    def build(cls, *, area: shapely.Geometry, size_m: tuple[float, float], targets_m: np.ndarray) -> FlowFields:
        """Shortest-path fields to targets ``(T, 2)`` over a walkable area.

        Distances come from relaxing all targets at once over an 8-connected raster until nothing
        changes (a vectorised Bellman-Ford; the rasters are small enough for that).

        Raises:
            ValueError: a target far from any walkable cell.
        """
        grid_x, grid_y, shape = _cell_centres(size_m, FIELD_CELL_M)
        inner = area.buffer(-FIELD_CLEARANCE_M)
        walk = shapely.contains_xy(inner, grid_x.ravel(), grid_y.ravel()).reshape(shape)
        walk_cells = np.column_stack((grid_x[walk], grid_y[walk]))
        rows, cols = shape
        count = len(targets_m)
        distance = np.full((count, rows + 2, cols + 2), np.inf, dtype=np.float32)
        for index, target in enumerate(np.asarray(targets_m, dtype=np.float64)):
            gaps = np.linalg.norm(walk_cells - target, axis=1)
            nearest = int(np.argmin(gaps))
            if gaps[nearest] > 2.0:
                raise ValueError(f"flow-field target {target.tolist()} is {gaps[nearest]:.1f} m from walkable floor")
            col = int(walk_cells[nearest, 0] / FIELD_CELL_M)
            row = int(walk_cells[nearest, 1] / FIELD_CELL_M)
            distance[index, row + 1, col + 1] = 0.0
        steps = [(dr, dc, float(np.hypot(dr, dc)) * FIELD_CELL_M) for dr, dc in _NEIGHBOURS]

        def relax(values: np.ndarray) -> np.ndarray:
            best = values[:, 1:-1, 1:-1].copy()
            for dr, dc, cost in steps:
                np.minimum(best, values[:, 1 + dr : rows + 1 + dr, 1 + dc : cols + 1 + dc] + cost, out=best)
            return best

        while True:
            best = relax(distance)
            best[:, ~walk] = np.inf
            if np.array_equal(best, distance[:, 1:-1, 1:-1]):
                break
            distance[:, 1:-1, 1:-1] = best
        # Cells next to walls (off the cleared raster) lead back onto it, so people pushed there
        # by the crowd still know their way.
        for _ in range(3):
            best = relax(distance)
            current = distance[:, 1:-1, 1:-1]
            distance[:, 1:-1, 1:-1] = np.where(np.isfinite(current), current, best)
        directions = np.zeros((count, rows, cols, 2), dtype=np.float32)
        centre = distance[:, 1:-1, 1:-1]
        for dr, dc, cost in steps:
            neighbour = distance[:, 1 + dr : rows + 1 + dr, 1 + dc : cols + 1 + dc]
            target_walk = np.pad(walk, 1)[1 + dr : rows + 1 + dr, 1 + dc : cols + 1 + dc]
            # From a walkable cell only walkable neighbours count; from a cell off the raster any does.
            usable = np.isfinite(neighbour) & np.isfinite(centre) & (target_walk | ~walk)
            with np.errstate(invalid="ignore"):
                drop = np.where(usable, np.maximum(centre - neighbour, 0.0), 0.0) / cost
            directions[..., 0] += drop * (dc * FIELD_CELL_M / cost)
            directions[..., 1] += drop * (dr * FIELD_CELL_M / cost)
        norm = np.linalg.norm(directions, axis=-1, keepdims=True)
        directions = np.where(norm > 1e-9, directions / np.maximum(norm, 1e-9), 0.0).astype(np.float32)
        result = centre.copy()
        for array in (directions, result):
            array.flags.writeable = False
        return cls(directions=directions, distance_m=result)

    def direction(self, *, field_ids: np.ndarray, points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Walking direction ``(n, 2)`` and distance ``(n,)`` from points ``(n, 2)`` to targets ``field_ids``."""
        rows, cols, _ = _cells(points_m, FIELD_CELL_M, self.distance_m.shape[1:])
        return self.directions[field_ids, rows, cols], self.distance_m[field_ids, rows, cols]
