"""A deterministic pedestrian simulation of a station (SIMULATED people, for the demo and tests).

People enter at exits, may stop at a shop, queue at the ticket gates, take the stairs down,
wait at the train doors and board; trains release people who walk up the stairs or escalator,
through the gates and out. Movement is a social-force model (a pull towards the next target
along a precomputed flow field, a push from nearby people and from walls) on a fixed time step.

Determinism: the state at time t depends only on the layout, the config, the seed and the start
time. After the warm-up (``warmup_s`` on ``warmup_step_s`` steps), steps lie on the fixed grid
``start_s + k * step_s`` whatever the times given to ``advance_to``, and every random draw
happens in a fixed order; so every process that builds a ``Simulation`` with the same arguments
sees the same crowd.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from simulator.config import SimulationConfig
from simulator.grid import FloorGrid
from simulator.plan import DOOR_INSET_M, JOIN_RADIUS_M, LinkEnd, Place, StationPlan, build_plan
from simulator.queues import Server, Turnstile
from station import StationLayout

# Social force: strength (m/s2) and range (m) of the push between people, their body radius.
PUSH_MPS2 = 2.0
PUSH_RANGE_M = 0.3
BODY_RADIUS_M = 0.25
# People react less to those behind them (0 = not at all, 1 = as much as to those in front).
BEHIND_WEIGHT = 0.4
INTERACTION_RANGE_M = 2.0
WALL_PUSH_MPS2 = 3.0
WALL_RANGE_M = 0.2
# Time to reach the desired velocity.
RELAX_S = 0.5
# Closer than this, people steer straight at their target instead of along the flow field.
DIRECT_RADIUS_M = 2.5
# People slow down within this distance of where they want to stand.
SLOW_RADIUS_M = 0.8
MAX_SPEED_FACTOR = 1.3
# Queue members this close to their place in the queue stand in it.
SETTLE_RADIUS_M = 1.0
# Queues re-sort by distance to their front this often (steps).
REORDER_EVERY_STEPS = 5
SERVE_RADIUS_M = 0.6
WALK_TOLERANCE_M = 0.5
EXIT_TOLERANCE_M = 1.0
# Walking speeds are drawn from a normal distribution clipped to this range.
SPEED_LIMITS_MPS = (0.6, 2.0)


@lru_cache(maxsize=4)
def _cached_plan(layout_json: str, config: SimulationConfig) -> StationPlan:
    return build_plan(StationLayout.model_validate_json(layout_json), config)


def plan_for(layout: StationLayout, config: SimulationConfig) -> StationPlan:
    """The plan of a layout, built once per process (building the flow fields takes a moment)."""
    return _cached_plan(layout.model_dump_json(), config)


@dataclass(eq=False)
class _Agent:
    """Bookkeeping of one simulated person (the continuous state lives in the arrays)."""

    uid: int
    row: int
    legs: list[tuple]
    mode: str = "walk"
    server: Server | None = None
    until_s: float = 0.0  # end of a trip between floors
    arrive_at: LinkEnd | None = None
    origin: Place | None = None


_ROWS = ("pos", "vel", "speed", "target", "field_id", "floor", "ghost", "queued", "arrive_tol", "wake_s")


@dataclass
class _Arrays:
    """Continuous state, one row per person."""

    pos: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    vel: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    speed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    target: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    field_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    floor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ghost: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    queued: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    arrive_tol: np.ndarray = field(default_factory=lambda: np.zeros(0))
    wake_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def append(self, pos: np.ndarray, speed: float, floor: int) -> int:
        self.pos = np.vstack((self.pos, pos[None]))
        self.vel = np.vstack((self.vel, np.zeros((1, 2))))
        self.speed = np.append(self.speed, speed)
        self.target = np.vstack((self.target, pos[None]))
        self.field_id = np.append(self.field_id, -1)
        self.floor = np.append(self.floor, floor)
        self.ghost = np.append(self.ghost, False)
        self.queued = np.append(self.queued, False)
        self.arrive_tol = np.append(self.arrive_tol, -1.0)
        self.wake_s = np.append(self.wake_s, np.inf)
        return len(self.pos) - 1

    def keep(self, mask: np.ndarray) -> None:
        for name in _ROWS:
            setattr(self, name, getattr(self, name)[mask])


class Simulation:
    """A simulated crowd in a station (SIMULATION: no real person is involved).

    Args:
        layout: The station; it needs exit, platform-edge and stairs features (see plan.py).
        seed: Random seed; the same seed and start time give the same crowd in every process.
        start_s: Simulation clock at construction (unix seconds, or any origin); the crowd has
            already been simulated for ``config.warmup_s`` before it.
        config: Demand, trains and service rates.

    Raises:
        PlanError: the layout lacks what the simulation needs.
    """

    def __init__(
        self, layout: StationLayout, seed: int = 0, start_s: float = 0.0, config: SimulationConfig | None = None
    ) -> None:
        self.config = config or SimulationConfig()
        self.layout = layout
        self.plan = plan_for(layout, self.config)
        self._floor_ids = list(self.plan.floors)
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._origin_s = float(start_s)
        self._steps = 0
        self._now_s = self._origin_s - self.config.warmup_s
        self._tick = 0
        self._agents: list[_Agent] = []
        self._arrays = _Arrays()
        self._next_uid = 0
        self._pending: list[tuple[float, int, int, int]] = []
        self._servers: list[Server] = []
        self._gate_servers: dict[tuple[int, int], list[Server]] = {}
        self._link_servers: dict[tuple[str, str], list[Server]] = {}
        self._door_servers: list[list[Server]] = []
        self._transits: list[tuple[float, int, _Agent]] = []
        self._build_servers()
        for server in self._servers:
            server.field_id = self.plan.floors[server.floor_id].field_id(server.field_point_m)
        self._warm_up()

    def _warm_up(self) -> None:
        """Fill the station: simulate ``warmup_s`` before the start, on coarser steps (it is not watched)."""
        count = int(np.ceil(self.config.warmup_s / self.config.warmup_step_s - 1e-9))
        first_s = self._origin_s - self.config.warmup_s
        for k in range(count):
            self._step(first_s + k * self.config.warmup_s / count, self.config.warmup_s / count)
        self._now_s = self._origin_s

    # ----- public interface -------------------------------------------------------------

    @property
    def time_s(self) -> float:
        """The simulation clock: the time of the last step."""
        return self._now_s

    def advance_to(self, t_s: float) -> None:
        """Step forward to the last step at or before ``t_s`` (never backwards).

        Raises:
            ValueError: ``t_s`` lies more than one step before the current time.
        """
        step = self.config.step_s
        if t_s < self.time_s - step:
            raise ValueError(f"cannot go back in time: at {self.time_s:.3f} s, asked for {t_s:.3f} s")
        target_steps = int(np.floor((t_s - self._origin_s) / step + 1e-9))
        while self._steps < target_steps:
            # Times from the step count, not by adding up steps, so that they never drift.
            self._step(self._origin_s + self._steps * step, step)
            self._steps += 1
            self._now_s = self._origin_s + self._steps * step

    def positions(self, floor_id: str) -> np.ndarray:
        """Ground-truth foot positions ``(n, 2)`` in metres of everyone on a floor (a copy).

        Raises:
            KeyError: an unknown floor.
        """
        if floor_id not in self._floor_ids:
            raise KeyError(f"no floor {floor_id!r}; floors are {self._floor_ids}")
        index = self._floor_ids.index(floor_id)
        return self._arrays.pos[self._arrays.floor == index].copy()

    def velocities(self, floor_id: str) -> np.ndarray:
        """Velocities ``(n, 2)`` in metres per second, in the same order as ``positions``."""
        index = self._floor_ids.index(floor_id)
        return self._arrays.vel[self._arrays.floor == index].copy()

    def in_transit(self) -> int:
        """People currently on stairs or escalators between floors."""
        return len(self._transits)

    def queue_lengths(self, kind: str) -> list[int]:
        """Lengths of every queue of one kind: 'gate', 'stairs', 'escalator' or 'door'."""
        return [len(server.queue) for server in self._servers if server.kind == kind]

    def train_arrivals_s(self, from_s: float, to_s: float) -> list[tuple[float, int]]:
        """Trains arriving in ``[from_s, to_s)``: arrival time and platform-edge index."""
        interval, offset = self.config.train_interval_s, self.config.train_offset_s
        first = int(np.ceil((from_s - offset) / interval))
        last = int(np.ceil((to_s - offset) / interval))
        return [(k * interval + offset, k % len(self.plan.edges)) for k in range(first, last)]

    # ----- set-up -----------------------------------------------------------------------

    def _build_servers(self) -> None:
        config = self.config
        for line_index, line in enumerate(self.plan.gates):
            for side in (0, 1):
                self._gate_servers[(line_index, side)] = []
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
                    self._gate_servers[(line_index, side)].append(server)
                    self._servers.append(server)
        for link in self.plan.links:
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
                self._link_servers.setdefault((end.floor_id, other.floor_id), []).append(server)
                self._servers.append(server)
        for edge_index, edge in enumerate(self.plan.edges):
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
                self._servers.append(server)
            self._door_servers.append(servers)

    # ----- one step ---------------------------------------------------------------------

    def _step(self, now: float, dt: float) -> None:
        self._now_s = now
        self._spawn_walk_ins(dt)
        self._schedule_trains(now, now + dt)
        self._release_pending(now + dt)
        self._finish_transits(now + dt)
        self._serve(now + dt)
        self._move(dt)
        self._tick += 1
        self._check_arrivals(now + dt)
        self._remove_gone()

    def _spawn_walk_ins(self, dt: float) -> None:
        config, rng = self.config, self._rng
        exits = list(self.plan.exits)
        for _ in range(rng.poisson(config.passer_by_per_s * dt)):
            origin = exits[rng.integers(len(exits))]
            legs = [("shop",)] if rng.random() < config.shop_visit_probability else []
            self._add(origin.floor_id, origin.point_m + rng.normal(0, 0.3, 2), [*legs, ("exit",)], origin)
        for _ in range(rng.poisson(config.departing_per_s * dt)):
            origin = exits[rng.integers(len(exits))]
            legs = [("shop",)] if rng.random() < config.shop_visit_probability / 2 else []
            self._add(
                origin.floor_id,
                origin.point_m + rng.normal(0, 0.3, 2),
                [*legs, ("tolink", self.plan.platform_floor), ("board",)],
                origin,
            )

    def _schedule_trains(self, from_s: float, to_s: float) -> None:
        config, rng = self.config, self._rng
        for arrival_s, edge_index in self.train_arrivals_s(from_s, to_s):
            doors = len(self.plan.edges[edge_index].doors_m)
            for _ in range(rng.poisson(config.alighting_mean)):
                when = arrival_s + 2.0 + rng.uniform(0, config.alight_spread_s)
                heapq.heappush(self._pending, (when, self._next_uid, edge_index, int(rng.integers(doors))))
                self._next_uid += 1

    def _release_pending(self, now: float) -> None:
        rng = self._rng
        while self._pending and self._pending[0][0] <= now:
            _, _, edge_index, door = heapq.heappop(self._pending)
            edge = self.plan.edges[edge_index]
            point = edge.doors_m[door] + edge.inward_m * 0.3 + edge.along_m * rng.uniform(-0.5, 0.5)
            legs: list[tuple] = [("tolink", self.plan.entry_floor)]
            if rng.random() < self.config.shop_visit_probability / 2:
                legs.append(("shop",))
            legs.append(("exit",))
            self._add(edge.floor_id, point, legs, None)

    def _add(self, floor_id: str, pos: np.ndarray, legs: list[tuple], origin: Place | None) -> None:
        config = self.config
        speed = float(
            np.clip(self._rng.normal(config.walking_speed_mps, config.walking_speed_sd_mps), *SPEED_LIMITS_MPS)
        )
        row = self._arrays.append(np.asarray(pos, dtype=np.float64), speed, self._floor_ids.index(floor_id))
        agent = _Agent(uid=self._next_uid, row=row, legs=list(legs), origin=origin)
        self._next_uid += 1
        self._agents.append(agent)
        self._next_leg(row, self.time_s)

    def _boarding_open(self, edge_index: int, now: float) -> bool:
        interval, offset = self.config.train_interval_s, self.config.train_offset_s
        k = int(np.floor((now - offset) / interval))
        since = now - (k * interval + offset)
        return k % len(self.plan.edges) == edge_index and 3.0 <= since <= self.config.train_dwell_s - 2.0

    def _serve(self, now: float) -> None:
        arrays = self._arrays
        reorder = self._tick % REORDER_EVERY_STEPS == 0
        boarding = [self._boarding_open(edge_index, now) for edge_index in range(len(self.plan.edges))]
        for server in self._servers:
            if not server.queue:
                continue
            changed = False
            if reorder and len(server.queue) > 1:
                # A queue is a crowd that sorts itself: whoever stands nearest the front is next,
                # so nobody has to push through to a place that was kept for them.
                rows = np.array([agent.row for agent in server.queue])
                gaps = np.linalg.norm(arrays.pos[rows] - server.head_m, axis=1)
                order = np.argsort(gaps, kind="stable")
                if np.any(order != np.arange(len(order))):
                    server.queue[:] = [server.queue[i] for i in order]
                    changed = True
            head = server.queue[0]
            ready = now >= server.turnstile.free_at_s
            if server.kind == "door":
                ready = ready and boarding[server.edge_index]
            if ready and np.linalg.norm(arrays.pos[head.row] - server.head_m) < SERVE_RADIUS_M:
                server.queue.pop(0)
                server.turnstile.free_at_s = now + server.service_s
                head.server = None
                self._on_served(head.row, head, server, now)
                changed = True
            if changed and server.queue:
                members = [agent.row for agent in server.queue]
                arrays.target[members] = server.slots_m(len(members))

    def _on_served(self, row: int, agent: _Agent, server: Server, now: float) -> None:
        arrays = self._arrays
        if server.kind == "gate":
            # Straight through the lane, not pushed by anyone (lanes are one person wide).
            agent.legs.insert(0, ("pass", server.lane_exit_m))
            self._next_leg(row, now)
        elif server.kind == "door":
            agent.mode = "gone"
            arrays.queued[row] = False
        else:
            agent.mode = "transit"
            agent.until_s = now + server.travel_s
            agent.arrive_at = server.arrival
            arrays.floor[row] = -1
            arrays.queued[row] = False
            heapq.heappush(self._transits, (agent.until_s, agent.uid, agent))

    def _finish_transits(self, now: float) -> None:
        arrays, rng = self._arrays, self._rng
        while self._transits and self._transits[0][0] <= now:
            _, _, agent = heapq.heappop(self._transits)
            row, end = agent.row, agent.arrive_at
            if end is None:
                raise RuntimeError(f"person {agent.uid} is between floors with nowhere to arrive")
            offset = rng.uniform(-0.3, 0.3) * end.width_m
            arrays.pos[row] = end.point_m + end.across_m * offset
            arrays.vel[row] = end.back_m * arrays.speed[row]
            arrays.floor[row] = self._floor_ids.index(end.floor_id)
            agent.mode = "walk"
            self._next_leg(row, now)

    # ----- legs -------------------------------------------------------------------------

    def _next_leg(self, row: int, now: float) -> None:
        """Start the agent's next leg, expanding composite legs into simple ones."""
        agent, arrays, rng = self._agents[row], self._arrays, self._rng
        floor_id = self._floor_ids[arrays.floor[row]]
        floor = self.plan.floors[floor_id]
        arrays.ghost[row] = False
        arrays.queued[row] = False
        arrays.arrive_tol[row] = -1.0
        arrays.wake_s[row] = np.inf
        while True:
            if not agent.legs:
                agent.mode = "gone"
                return
            leg = agent.legs.pop(0)
            kind = leg[0]
            if kind == "goto":
                _, point, tolerance, field_point = leg
                crossing = self.plan.gate_between(floor_id, arrays.pos[row], point)
                walk = ("walk", point, tolerance, field_point)
                if crossing is None:
                    agent.legs.insert(0, walk)
                else:
                    line, side = crossing
                    line_index = self.plan.gates.index(line)
                    approach = line.approach_m[side]
                    agent.legs[0:0] = [("walk", approach, JOIN_RADIUS_M, approach), ("gate", line_index, side), walk]
            elif kind == "walk":
                _, point, tolerance, field_point = leg
                agent.mode = "walk"
                arrays.arrive_tol[row] = tolerance
                arrays.target[row] = point
                arrays.field_id[row] = floor.field_id(field_point) if field_point is not None else -1
                return
            elif kind == "pass":
                agent.mode = "pass"
                arrays.arrive_tol[row] = 0.3
                arrays.target[row] = leg[1]
                arrays.field_id[row] = -1
                arrays.ghost[row] = True
                return
            elif kind == "dwell":
                agent.mode = "dwell"
                arrays.wake_s[row] = now + leg[1]
                arrays.target[row] = arrays.pos[row]
                arrays.field_id[row] = -1
                return
            elif kind == "shop":
                # Only shops on this side of the gates: nobody passes the gates twice for a snack.
                here = arrays.pos[row]
                shops = [
                    p
                    for p in self.plan.shops
                    if p.floor_id == floor_id and self.plan.gate_between(floor_id, here, p.point_m) is None
                ]
                if shops:
                    shop = shops[rng.integers(len(shops))]
                    spot = shop.point_m + shop.along_m * rng.uniform(-1.0, 1.0) * shop.spread_m
                    agent.legs[0:0] = [
                        ("goto", spot, WALK_TOLERANCE_M, shop.point_m),
                        ("dwell", rng.uniform(*self.config.shop_dwell_s)),
                    ]
            elif kind == "exit":
                exits = [p for p in self.plan.exits if p.floor_id == floor_id and p is not agent.origin]
                if not exits:
                    exits = [p for p in self.plan.exits if p.floor_id == floor_id]
                chosen = exits[rng.integers(len(exits))]
                agent.legs[0:0] = [("goto", chosen.point_m, EXIT_TOLERANCE_M, chosen.point_m), ("leave",)]
            elif kind == "leave":
                agent.mode = "gone"
                return
            elif kind == "tolink":
                servers = self._link_servers.get((floor_id, leg[1]), [])
                if not servers:
                    raise RuntimeError(f"no stairs or escalator from {floor_id!r} to {leg[1]!r}")
                gaps = [np.linalg.norm(s.field_point_m - arrays.pos[row]) for s in servers]
                nearest = servers[int(np.argmin(gaps))]
                agent.legs[0:0] = [
                    ("goto", nearest.field_point_m, JOIN_RADIUS_M, nearest.field_point_m),
                    ("link", leg[1]),
                ]
            elif kind == "link":
                servers = self._link_servers[(floor_id, leg[1])]
                self._join(row, agent, min(servers, key=lambda s: s.wait_s() + 0.01 * len(s.queue)))
                return
            elif kind == "gate":
                servers = self._gate_servers[(leg[1], leg[2])]
                position = arrays.pos[row]
                costs = [s.wait_s() + np.linalg.norm(s.head_m - position) / arrays.speed[row] for s in servers]
                self._join(row, agent, servers[int(np.argmin(costs))])
                return
            elif kind == "board":
                self._join(row, agent, self._choose_door(row, now))
                return
            else:
                raise ValueError(f"unknown leg {kind!r}")

    def _choose_door(self, row: int, now: float) -> Server:
        """The door to wait at: on the next train's track, near and with a short queue."""
        interval, offset = self.config.train_interval_s, self.config.train_offset_s
        k = int(np.ceil((now - offset - self.config.train_dwell_s + 5.0) / interval))
        servers = self._door_servers[k % len(self.plan.edges)]
        position = self._arrays.pos[row]
        gaps = np.array([np.linalg.norm(s.head_m - position) for s in servers])
        lengths = np.array([len(s.queue) for s in servers], dtype=np.float64)
        weights = np.exp(-gaps / 25.0) / (1.0 + lengths) ** 2
        return servers[int(self._rng.choice(len(servers), p=weights / weights.sum()))]

    def _join(self, row: int, agent: _Agent, server: Server) -> None:
        agent.mode = "queue"
        agent.server = server
        server.queue.append(agent)
        self._arrays.target[row] = server.slots_m(len(server.queue))[-1]
        self._arrays.field_id[row] = server.field_id
        self._arrays.queued[row] = True

    def _check_arrivals(self, now: float) -> None:
        arrays = self._arrays
        offset = arrays.target - arrays.pos
        gaps = np.sqrt(np.einsum("ij,ij->i", offset, offset))
        for row in np.flatnonzero((gaps < arrays.arrive_tol) | (arrays.wake_s <= now)):
            self._next_leg(int(row), now)

    def _remove_gone(self) -> None:
        keep = np.array([agent.mode != "gone" for agent in self._agents], dtype=bool)
        if keep.all():
            return
        self._arrays.keep(keep)
        self._agents = [agent for agent, kept in zip(self._agents, keep, strict=True) if kept]
        for row, agent in enumerate(self._agents):
            agent.row = row

    # ----- movement ---------------------------------------------------------------------

    def _move(self, dt: float) -> None:
        arrays = self._arrays
        for floor_index, floor_id in enumerate(self._floor_ids):
            rows = np.flatnonzero(arrays.floor == floor_index)
            if len(rows) == 0:
                continue
            plan = self.plan.floors[floor_id]
            pos, vel, speed = arrays.pos[rows], arrays.vel[rows], arrays.speed[rows]
            to_target = arrays.target[rows] - pos
            distance = np.sqrt(np.einsum("ij,ij->i", to_target, to_target))
            heading = to_target / np.maximum(distance, 1e-9)[:, None]
            field_ids = arrays.field_id[rows]
            far = (field_ids >= 0) & (distance > DIRECT_RADIUS_M)
            if np.any(far):
                along, remaining = plan.fields.direction(field_ids=field_ids[far], points_m=pos[far])
                # Near the field's own target (a queue's approach, say) the real target may lie
                # elsewhere: from there on, straight at it.
                usable = (np.einsum("ij,ij->i", along, along) > 0.25) & (remaining > DIRECT_RADIUS_M)
                heading[np.flatnonzero(far)[usable]] = along[usable]
            desired = heading * (speed * np.clip(distance / SLOW_RADIUS_M, 0.0, 1.0))[:, None]
            ghost = arrays.ghost[rows]
            # People standing in a queue hold their place: the crowd flows round them, they
            # shuffle forward when the queue moves, and they push nobody.
            settled = arrays.queued[rows] & (distance < SETTLE_RADIUS_M)
            free = ~ghost & ~settled
            new_vel = desired.copy()
            if np.any(free):
                force = (desired[free] - vel[free]) / RELAX_S
                force += _social_force(pos[free], heading[free], pos[~ghost])
                wall_distance, away = plan.grid.wall(pos[free])
                force += away * (WALL_PUSH_MPS2 * np.exp((BODY_RADIUS_M - wall_distance) / WALL_RANGE_M))[:, None]
                moved = vel[free] + force * dt
                norm = np.sqrt(np.einsum("ij,ij->i", moved, moved))
                limit = speed[free] * MAX_SPEED_FACTOR
                new_vel[free] = moved * np.minimum(1.0, limit / np.maximum(norm, 1e-9))[:, None]
            if np.any(settled):
                new_vel[settled] = (
                    to_target[settled]
                    * np.minimum(1.0 / RELAX_S, speed[settled] / np.maximum(distance[settled], 1e-9))[:, None]
                )
            arrays.pos[rows], arrays.vel[rows] = _collide(plan.grid, pos, new_vel, dt)


def _social_force(pos: np.ndarray, heading: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Push ``(m, 2)`` on people at ``pos`` ``(m, 2)`` heading ``(m, 2)`` from people at ``others`` ``(n, 2)``.

    Anyone at exactly the same spot (oneself) is skipped.
    """
    dx = pos[:, 0:1] - others[None, :, 0]
    dy = pos[:, 1:2] - others[None, :, 1]
    distance = np.sqrt(dx * dx + dy * dy)
    near = (distance < INTERACTION_RANGE_M) & (distance > 1e-9)
    if not np.any(near):
        return np.zeros_like(pos)
    rows, cols = np.nonzero(near)
    d = distance[rows, cols]
    nx, ny = dx[rows, cols] / d, dy[rows, cols] / d
    # Cosine of the angle between my heading and the direction to the other person.
    facing = -(nx * heading[rows, 0] + ny * heading[rows, 1])
    weight = BEHIND_WEIGHT + (1.0 - BEHIND_WEIGHT) * (1.0 + facing) / 2.0
    magnitude = PUSH_MPS2 * np.exp((2 * BODY_RADIUS_M - d) / PUSH_RANGE_M) * weight
    force = np.zeros_like(pos)
    np.add.at(force[:, 0], rows, magnitude * nx)
    np.add.at(force[:, 1], rows, magnitude * ny)
    return force


def _collide(grid: FloorGrid, pos: np.ndarray, vel: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Move, sliding along walls: a step into a wall keeps only the component that stays clear."""
    proposed = pos + vel * dt
    ok = grid.is_walkable(proposed)
    if ok.all():
        return proposed, vel
    bad = np.flatnonzero(~ok)
    only_x = np.column_stack((proposed[bad, 0], pos[bad, 1]))
    only_y = np.column_stack((pos[bad, 0], proposed[bad, 1]))
    x_ok, y_ok = grid.is_walkable(only_x), grid.is_walkable(only_y)
    new_pos, new_vel = proposed.copy(), vel.copy()
    new_pos[bad] = np.where(x_ok[:, None], only_x, np.where(y_ok[:, None], only_y, pos[bad]))
    new_vel[bad] = np.where(x_ok[:, None], vel[bad] * [1.0, 0.0], np.where(y_ok[:, None], vel[bad] * [0.0, 1.0], 0.0))
    return new_pos, new_vel
