"""Service points of the simulation where people queue: gate lanes, stairs, escalators, train doors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.config import SimulationConfig
from simulator.plan import DOOR_INSET_M, LinkEnd, StationPlan


@dataclass
class Turnstile:
    """When a service point (shared by the queues on both sides of a gate lane) is free again."""

    free_at_s: float = -np.inf


@dataclass(eq=False)
class Server:
    """One queue in front of one service point.

    People stand in ``lines`` parallel lines behind ``head_m``, ``spacing_m`` apart, extending
    along ``back_m``; the first in the queue is served when they stand at the head and the
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
    queue: list = field(default_factory=list)

    def slots_m(self, count: int) -> np.ndarray:
        """Where the first ``count`` people of the queue stand ``(count, 2)``."""
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
                lines=4,
                edge_index=edge_index,
            )
            servers.append(server)
            points.all.append(server)
        points.doors.append(servers)
    for server in points.all:
        server.field_id = plan.floors[server.floor_id].field_id(server.field_point_m)
    return points
