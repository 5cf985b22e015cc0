"""Service points of the simulation where people queue: gate lanes, stairs, escalators, train doors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from simulator.config import SimulationConfig
from simulator.plan import DOOR_INSET_M, LinkEnd, StationPlan

# The crowd at the foot of stairs: how far from the head it may reach, how far it keeps from
# walls and from the train doors (boarding passengers queue there).
CROWD_REACH_M = 25.0
CROWD_WALL_CLEARANCE_M = 0.3
CROWD_DOOR_CLEARANCE_M = 1.5
# People waiting for a train stand in lines either side of each door (as platform markings ask),
# this far from its middle, and leave the middle free for those getting off.
DOOR_LINE_OFFSETS_M = (0.9, -0.9, 1.5, -1.5)
DOOR_QUEUE_ROWS = 40
# The first in a queue is served once this close to its head (beside a door: the door is reached).
SERVE_RADIUS_M = 0.6
DOOR_SERVE_RADIUS_M = 1.3


@dataclass
class Turnstile:
    """When a service point (shared by the queues on both sides of a gate lane) is free again."""

    free_at_s: float = -np.inf


@dataclass(eq=False)
class Server:
    """One queue in front of one service point.

    People stand in ``lines`` parallel lines behind ``head_m``, ``spacing_m`` apart, extending
    along ``back_m``, or, where ``places_m`` is given, in those places in order (the crowd at the
    foot of stairs); the first in the queue is served when they stand at the head and the
    turnstile is free, which then stays busy for ``service_s``.

    Attributes:
        kind: 'gate', 'stairs', 'escalator' or 'door'.
        head_m: Where the first person stands ``(2,)``, metres.
        back_m: Unit direction ``(2,)`` in which the queue grows.
        across_m: Unit direction ``(2,)`` across the queue, for parallel lines.
        service_s: Time one person takes.
        turnstile: Shared busy state.
        field_point_m: The flow-field target near this queue ``(2,)``.
        floor_id: The floor the queue is on.
        lines: Parallel lines of the queue.
        spacing_m: Distance between people in one line.
        lane_exit_m: For a gate lane, where people come out on the other side.
        edge_index: For a door, the platform edge it opens on.
        arrival: For stairs and escalators, the far end (a ``plan.LinkEnd``).
        travel_s: For stairs and escalators, the time between the floors.
        field_id: Index of the flow field to ``field_point_m`` on its floor.
        places_m: Where the queue stands ``(k, 2)``, nearest the head first; None: in lines.
        serve_radius_m: The first in the queue is served once this close to the head.
        queue: The people in order, first served first.
    """

    kind: str
    head_m: np.ndarray
    back_m: np.ndarray
    across_m: np.ndarray
    service_s: float
    turnstile: Turnstile
    field_point_m: np.ndarray
    floor_id: str
    lines: int = 1
    spacing_m: float = 0.55
    line_gap_m: float = 0.6
    lane_exit_m: np.ndarray | None = None
    edge_index: int = -1
    arrival: LinkEnd | None = None
    travel_s: float = 0.0
    field_id: int = -1
    places_m: np.ndarray | None = None
    serve_radius_m: float = SERVE_RADIUS_M
    queue: list = field(default_factory=list)

    def slots_m(self, count: int) -> np.ndarray:
        """Where the first ``count`` people of the queue stand ``(count, 2)``."""
        if self.places_m is not None:
            # More people than places (never in the default rush): the rest crowd the last one.
            return self.places_m[np.minimum(np.arange(count), len(self.places_m) - 1)]
        index = np.arange(count)
        depth = (index // self.lines) * self.spacing_m
        # Lines fill from the middle outwards: 0, +1, -1, +2, ... gaps, so the first person of
        # each row stands right at the head.
        line = index % self.lines
        offset = ((line + 1) // 2) * np.where(line % 2 == 1, 1.0, -1.0) * self.line_gap_m
        return self.head_m + depth[:, None] * self.back_m + offset[:, None] * self.across_m

    def wait_s(self) -> float:
        """Rough time until someone joining now is served."""
        return len(self.queue) * self.service_s


@dataclass
class ServicePoints:
    """Every queue of a station, indexed the ways people look for them.

    Attributes:
        all: Every server, in a fixed order (the order they are served in each step).
        gates: ``(gate line index, side)`` -> the lanes' servers on that side.
        links: ``(from floor, to floor)`` -> the stairs' and escalators' servers going that way.
        doors: Per platform edge, one server per train door.
    """

    all: list[Server] = field(default_factory=list)
    gates: dict[tuple[int, int], list[Server]] = field(default_factory=dict)
    links: dict[tuple[str, str], list[Server]] = field(default_factory=dict)
    doors: list[list[Server]] = field(default_factory=list)


def door_places_m(head_m: np.ndarray, inward_m: np.ndarray, along_m: np.ndarray, spacing_m: float) -> np.ndarray:
    """Where people wait for a train at one door ``(k, 2)``: lines either side of it, first rows first."""
    offsets = np.array(DOOR_LINE_OFFSETS_M)
    depth = np.repeat(np.arange(DOOR_QUEUE_ROWS) * spacing_m, len(offsets))
    lateral = np.tile(offsets, DOOR_QUEUE_ROWS)
    return head_m + depth[:, None] * inward_m + lateral[:, None] * along_m


def crowd_places_m(
    head_m: np.ndarray,
    back_m: np.ndarray,
    room: shapely.Geometry,
    rivals_m: np.ndarray,
    spacing_m: float,
    reach_m: float = CROWD_REACH_M,
) -> np.ndarray:
    """Where a crowd waiting at a bottleneck stands ``(k, 2)``, nearest the head first.

    People pack a hexagonal lattice ``spacing_m`` apart in front of the head (along ``back_m``),
    on free floor (``room``), nearer this head than any rival head (``rivals_m`` ``(r, 2)``: the
    other bottlenecks on the floor, which have their own crowds), up to ``reach_m`` away. Filled
    nearest first, the crowd grows as a half disc, as crowds at the foot of stairs do, rather
    than as a line.
    """
    across = np.array([-back_m[1], back_m[0]])
    row_gap = spacing_m * np.sqrt(3.0) / 2.0
    depth = np.arange(0.0, reach_m + 1e-9, row_gap)
    lateral = np.arange(-reach_m, reach_m + 1e-9, spacing_m)
    rows, cols = np.meshgrid(np.arange(len(depth)), lateral, indexing="ij")
    offset = cols + np.where(rows % 2 == 1, spacing_m / 2.0, 0.0)
    points = head_m + depth[rows.ravel(), None] * back_m + offset.ravel()[:, None] * across
    gap = np.linalg.norm(points - head_m, axis=1)
    keep = (gap <= reach_m) & shapely.contains_xy(room, points[:, 0], points[:, 1])
    if len(rivals_m):
        nearest_rival = np.min(np.linalg.norm(points[:, None, :] - rivals_m[None, :, :], axis=2), axis=1)
        keep &= gap < nearest_rival
    points, gap = points[keep], gap[keep]
    # Nearest first; ties (same ring) from the middle outwards, so the crowd stays symmetric.
    order = np.lexsort((np.abs((points - head_m) @ across), np.round(gap, 6)))
    return points[order]


def build_service_points(plan: StationPlan, config: SimulationConfig) -> ServicePoints:
    """The queues of a station plan: both sides of every gate lane, each way of every link, every door."""
    points = ServicePoints()
    for line_index, line in enumerate(plan.gates):
        for side in (0, 1):
            points.gates[(line_index, side)] = []
        for lane in line.lanes:
            turnstile = Turnstile()
            for side in (0, 1):
                back = lane.back_m[side]
                server = Server(
                    kind="gate",
                    head_m=lane.entry_m[side],
                    back_m=back,
                    across_m=np.array([-back[1], back[0]]),
                    service_s=config.gate_service_s,
                    turnstile=turnstile,
                    field_point_m=line.approach_m[side],
                    floor_id=line.floor_id,
                    lane_exit_m=lane.entry_m[1 - side],
                )
                points.gates[(line_index, side)].append(server)
                points.all.append(server)
    for link in plan.links:
        rate = config.stairs_per_s if link.kind == "stairs" else config.escalator_per_s
        travel = config.stairs_travel_s if link.kind == "stairs" else config.escalator_travel_s
        for end, other in ((link.ends[0], link.ends[1]), (link.ends[1], link.ends[0])):
            if link.one_way_from is not None and link.one_way_from != end.floor_id:
                continue
            server = Server(
                kind=link.kind,
                head_m=end.point_m,
                back_m=end.back_m,
                across_m=end.across_m,
                service_s=1.0 / rate,
                turnstile=Turnstile(),
                field_point_m=end.point_m + end.back_m * 1.5,
                floor_id=end.floor_id,
                lines=max(1, int(end.width_m / 0.55)) + 2,
                spacing_m=0.5,
                arrival=other,
                travel_s=travel,
            )
            points.links.setdefault((end.floor_id, other.floor_id), []).append(server)
            points.all.append(server)
    _place_link_crowds(plan, config, points)
    for edge_index, edge in enumerate(plan.edges):
        servers = []
        for door in edge.doors_m:
            server = Server(
                kind="door",
                head_m=door + edge.inward_m * DOOR_INSET_M,
                back_m=edge.inward_m,
                across_m=edge.along_m,
                service_s=config.door_service_s,
                turnstile=Turnstile(),
                field_point_m=door + edge.inward_m * DOOR_INSET_M,
                floor_id=edge.floor_id,
                edge_index=edge_index,
                serve_radius_m=DOOR_SERVE_RADIUS_M,
            )
            server.places_m = door_places_m(server.head_m, edge.inward_m, edge.along_m, server.spacing_m)
            servers.append(server)
            points.all.append(server)
        points.doors.append(servers)
    for server in points.all:
        server.field_id = plan.floors[server.floor_id].field_id(server.field_point_m)
    return points


def _place_link_crowds(plan: StationPlan, config: SimulationConfig, points: ServicePoints) -> None:
    """Give each stairs and escalator queue the places of a crowd in front of it.

    Each crowd keeps to its own side of the other stairs and escalators of its floor, off the
    walls, and clear of the train doors (where boarding passengers stand).
    """
    links = [s for s in points.all if s.kind in ("stairs", "escalator")]
    doors_m: dict[str, list[np.ndarray]] = {}
    for edge in plan.edges:
        doors_m.setdefault(edge.floor_id, []).extend(door + edge.inward_m * DOOR_INSET_M for door in edge.doors_m)
    for server in links:
        floor = plan.floors[server.floor_id]
        room = floor.area.buffer(-CROWD_WALL_CLEARANCE_M)
        doors = doors_m.get(server.floor_id)
        if doors is not None:
            room = room.difference(shapely.buffer(shapely.multipoints(np.array(doors)), CROWD_DOOR_CLEARANCE_M))
        rivals = np.array([s.head_m for s in links if s is not server and s.floor_id == server.floor_id]).reshape(-1, 2)
        server.places_m = crowd_places_m(server.head_m, server.back_m, room, rivals, config.crowd_spacing_m)
