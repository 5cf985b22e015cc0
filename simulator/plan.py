"""What the simulation needs to know about a station, read from its layout's features.

Conventions (documented in docs/SIMULATOR.md):

- ``exit`` features: people enter and leave the floor there.
- ``shop`` features: people stop in front of them for a while.
- ``gates`` features: a line of ticket gates; each walkable gap inside the polygon is one lane,
  crossed along its long axis. The gate line splits the floor into sides.
- ``stairs`` / ``escalator`` features with the same English label on two floors are one link
  between the floors; the polygon's first edge (point 0 to point 1) is where people step on and
  off. Escalators run one way: up from the floor that has platform edges.
- ``platform-edge`` features: train doors open along them, one edge per track, used in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points

from simulator.config import SimulationConfig
from simulator.grid import FloorGrid, FlowFields
from station import StationLayout

# How far inside the walkable area people appear at an exit or stand at a shop or door.
EXIT_INSET_M = 0.8
SHOP_INSET_M = 0.9
DOOR_INSET_M = 0.7
PORTAL_OFFSET_M = 0.7
# People pick a gate lane or a flight of stairs when they are this close to it.
JOIN_RADIUS_M = 6.0


class PlanError(ValueError):
    """The layout lacks what the simulation needs (an exit, a link between floors, ...)."""


@dataclass(frozen=True)
class Place:
    """A point on a floor: where people appear, stop or leave.

    Attributes:
        floor_id: The floor.
        point_m: The point ``(2,)``, metres.
        label: The feature's English label.
        along_m: Unit direction ``(2,)`` along which people spread out (a shop's front).
        spread_m: How far either side of ``point_m`` along ``along_m`` people may stand.
    """

    floor_id: str
    point_m: np.ndarray
    label: str
    along_m: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0]))
    spread_m: float = 0.0


@dataclass(frozen=True)
class Lane:
    """One ticket gate lane: people queue at ``entry_m[side]`` and come out at ``entry_m[1 - side]``."""

    entry_m: tuple[np.ndarray, np.ndarray]
    back_m: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class GateLine:
    """A line of gates on one floor that splits it into two sides."""

    floor_id: str
    lanes: tuple[Lane, ...]
    sides: tuple[shapely.Geometry, shapely.Geometry]
    approach_m: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class LinkEnd:
    """One end of a flight of stairs or an escalator: queue at ``point_m``, facing ``back_m``."""

    floor_id: str
    point_m: np.ndarray
    back_m: np.ndarray
    across_m: np.ndarray
    width_m: float


@dataclass(frozen=True)
class Link:
    """Stairs or an escalator between two floors."""

    kind: str
    label: str
    ends: tuple[LinkEnd, LinkEnd]
    one_way_from: str | None


@dataclass(frozen=True)
class PlatformEdge:
    """Where one track's train doors open: door points on the platform and the inward direction."""

    floor_id: str
    label: str
    doors_m: np.ndarray
    inward_m: np.ndarray
    along_m: np.ndarray


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _inset(area: shapely.Geometry, point: np.ndarray, inset_m: float) -> np.ndarray:
    """The point of ``area`` shrunk by ``inset_m`` nearest to ``point``."""
    inner = area.buffer(-inset_m)
    if inner.is_empty:
        inner = area
    nearest = nearest_points(inner, Point(point))[0]
    return np.array([nearest.x, nearest.y])


def _shop_front(floor_id: str, label: str, polygon: Polygon, area: shapely.Geometry) -> Place:
    """Where people stand at a shop: in front of it, spread along its front."""
    front = _inset(area, np.array(polygon.centroid.coords[0]), SHOP_INSET_M)
    nearest = nearest_points(polygon.exterior, Point(front))[0]
    normal = front - np.array([nearest.x, nearest.y])
    normal = normal / max(float(np.linalg.norm(normal)), 1e-9)
    along = np.array([-normal[1], normal[0]])
    extent = np.asarray(polygon.exterior.coords) @ along
    spread = max(0.0, (extent.max() - extent.min()) / 2.0 - 1.0)
    return Place(floor_id, front, label, along_m=along, spread_m=spread)


def _long_axis(polygon: Polygon) -> tuple[np.ndarray, float, float]:
    """Unit long axis of a polygon's minimum rotated rectangle, its length and its width."""
    rectangle = np.asarray(polygon.minimum_rotated_rectangle.exterior.coords)[:4]
    edge_a, edge_b = rectangle[1] - rectangle[0], rectangle[2] - rectangle[1]
    length_a, length_b = np.linalg.norm(edge_a), np.linalg.norm(edge_b)
    if length_a >= length_b:
        return edge_a / length_a, float(length_a), float(length_b)
    return edge_b / length_b, float(length_b), float(length_a)


@dataclass(frozen=True)
class FloorPlan:
    """One floor: rasters, flow fields and the targets the fields lead to."""

    floor_id: str
    area: shapely.Geometry
    grid: FloorGrid
    fields: FlowFields
    field_targets_m: np.ndarray

    def field_id(self, point_m: np.ndarray) -> int:
        """The flow field that leads to ``point_m`` (it must be one of the targets)."""
        gaps = np.linalg.norm(self.field_targets_m - point_m, axis=1)
        index = int(np.argmin(gaps))
        if gaps[index] > 1e-6:
            raise KeyError(f"no flow field to {point_m.tolist()} on floor {self.floor_id!r}")
        return index


@dataclass(frozen=True)
class StationPlan:
    """Everything the simulation reads from a layout, precomputed."""

    floors: dict[str, FloorPlan]
    exits: tuple[Place, ...]
    shops: tuple[Place, ...]
    gates: tuple[GateLine, ...]
    links: tuple[Link, ...]
    edges: tuple[PlatformEdge, ...]
    entry_floor: str
    platform_floor: str

    def gate_between(self, floor_id: str, a_m: np.ndarray, b_m: np.ndarray) -> tuple[GateLine, int] | None:
        """The gate line to cross between two points of a floor, and the side ``a_m`` is on."""
        for line in self.gates:
            if line.floor_id != floor_id:
                continue
            side_a, side_b = _side(line, a_m), _side(line, b_m)
            if side_a != side_b and side_a >= 0 and side_b >= 0:
                return line, side_a
        return None


def _side(line: GateLine, point_m: np.ndarray) -> int:
    for index, side in enumerate(line.sides):
        if side.distance(Point(point_m)) < 0.5:
            return index
    return -1


def _gate_line(floor_id: str, polygon: Polygon, area: shapely.Geometry) -> GateLine:
    lanes_area = polygon.intersection(area)
    pieces = [g for g in getattr(lanes_area, "geoms", [lanes_area]) if g.area > 0.05]
    if not pieces:
        raise PlanError(f"gates on floor {floor_id!r} have no walkable lane (add gate cabinets as obstacles)")
    rest = area.difference(polygon.buffer(0.05))
    parts = sorted(getattr(rest, "geoms", [rest]), key=lambda g: -g.area)
    if len(parts) < 2:
        raise PlanError(f"gates on floor {floor_id!r} do not split the floor in two; close the line with obstacles")
    sides = (parts[0], parts[1])
    lanes = []
    for piece in sorted(pieces, key=lambda g: (g.centroid.y, g.centroid.x)):
        axis, length, _ = _long_axis(piece)
        centre = np.array([piece.centroid.x, piece.centroid.y])
        ends = (centre - axis * (length / 2 + 0.4), centre + axis * (length / 2 + 0.4))
        # Order the ends by side, so entry_m[0] lies on side 0.
        if sides[0].distance(Point(ends[0])) > sides[0].distance(Point(ends[1])):
            ends = (ends[1], ends[0])
        backs = (_unit(ends[0] - centre), _unit(ends[1] - centre))
        lanes.append(Lane(entry_m=ends, back_m=backs))
    approach = tuple(
        np.mean([lane.entry_m[s] for lane in lanes], axis=0) + np.mean([lane.back_m[s] for lane in lanes], axis=0) * 3.0
        for s in (0, 1)
    )
    return GateLine(floor_id=floor_id, lanes=tuple(lanes), sides=sides, approach_m=approach)  # type: ignore[arg-type]


def _link_end(floor_id: str, polygon_m: list[tuple[float, float]]) -> LinkEnd:
    points = np.asarray(polygon_m, dtype=np.float64)
    mid = (points[0] + points[1]) / 2.0
    centroid = np.array(Polygon(points).centroid.coords[0])
    across = points[1] - points[0]
    width = float(np.linalg.norm(across))
    along = np.array([-across[1], across[0]]) / width
    # The outward normal of the first edge points away from the flight's body.
    if np.dot(along, mid - centroid) < 0:
        along = -along
    return LinkEnd(floor_id, mid + along * PORTAL_OFFSET_M, along, across / width, width)


def build_plan(layout: StationLayout, config: SimulationConfig) -> StationPlan:
    """Read a layout's features into a plan for the simulation.

    Raises:
        PlanError: naming what the layout lacks.
    """
    areas = {floor.id: floor.walkable for floor in layout.floors}
    exits, shops, gates, edges = [], [], [], []
    link_ends: dict[tuple[str, str], list[tuple[str, list[tuple[float, float]]]]] = {}
    for floor in layout.floors:
        area = areas[floor.id]
        for feature in floor.features:
            label = feature.label.en if feature.label else feature.kind
            polygon = Polygon(feature.polygon_m)
            centroid = np.array(polygon.centroid.coords[0])
            if feature.kind == "exit":
                exits.append(Place(floor.id, _inset(area, centroid, EXIT_INSET_M), label))
            elif feature.kind == "shop":
                shops.append(_shop_front(floor.id, label, polygon, area))
            elif feature.kind == "gates":
                gates.append(_gate_line(floor.id, polygon, area))
            elif feature.kind in ("stairs", "escalator"):
                link_ends.setdefault((feature.kind, label), []).append((floor.id, feature.polygon_m))
            elif feature.kind == "platform-edge":
                edges.append(_platform_edge(floor.id, label, polygon, area, config))
    if not exits:
        raise PlanError("the layout has no exit feature: people need somewhere to enter and leave")
    if not edges:
        raise PlanError("the layout has no platform-edge feature: trains need somewhere to stop")
    platform_floor = edges[0].floor_id
    if any(edge.floor_id != platform_floor for edge in edges):
        raise PlanError("all platform-edge features must be on one floor")
    entry_floor = exits[0].floor_id
    links = []
    for (kind, label), ends in link_ends.items():
        if len(ends) != 2 or ends[0][0] == ends[1][0]:
            raise PlanError(f"{kind} {label!r} must appear on exactly two floors with the same English label")
        one_way = platform_floor if kind == "escalator" else None
        links.append(Link(kind, label, (_link_end(*ends[0]), _link_end(*ends[1])), one_way))
    if not any(link.kind == "stairs" for link in links):
        raise PlanError("the layout has no stairs between floors")
    floors = {}
    for floor in layout.floors:
        targets = [p.point_m for p in (*exits, *shops) if p.floor_id == floor.id]
        for line in gates:
            if line.floor_id == floor.id:
                targets.extend(line.approach_m)
        for link in links:
            targets.extend(end.point_m + end.back_m * 1.5 for end in link.ends if end.floor_id == floor.id)
        for edge in edges:
            if edge.floor_id == floor.id:
                targets.extend(edge.doors_m + edge.inward_m * DOOR_INSET_M)
        targets_m = np.array(targets, dtype=np.float64).reshape(-1, 2)
        if len(targets_m) == 0:
            continue
        floors[floor.id] = FloorPlan(
            floor_id=floor.id,
            area=areas[floor.id],
            grid=FloorGrid.build(area=areas[floor.id], size_m=floor.size_m),
            fields=FlowFields.build(area=areas[floor.id], size_m=floor.size_m, targets_m=targets_m),
            field_targets_m=targets_m,
        )
    return StationPlan(
        floors=floors,
        exits=tuple(exits),
        shops=tuple(shops),
        gates=tuple(gates),
        links=tuple(links),
        edges=tuple(edges),
        entry_floor=entry_floor,
        platform_floor=platform_floor,
    )


def _platform_edge(
    floor_id: str, label: str, polygon: Polygon, area: shapely.Geometry, config: SimulationConfig
) -> PlatformEdge:
    axis, length, _ = _long_axis(polygon)
    if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
        axis = -axis
    centre = np.array(polygon.centroid.coords[0])
    # Inward: from the edge towards the middle of the platform.
    normal = np.array([-axis[1], axis[0]])
    probe = LineString([centre, centre + normal * 3.0])
    if area.intersection(probe).length < area.intersection(LineString([centre, centre - normal * 3.0])).length:
        normal = -normal
    train_m = min(config.train_length_m, length)
    spacing = train_m / config.doors_per_side
    offsets = -train_m / 2 + spacing * (np.arange(config.doors_per_side) + 0.5)
    doors = centre + offsets[:, None] * axis
    return PlatformEdge(floor_id, label, doors, normal, axis)
