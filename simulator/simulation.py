"""A deterministic pedestrian simulation of a station (SIMULATED people, for the demo and tests).

People enter at exits, may stop at a shop, queue at the ticket gates, take the stairs down,
wait at the train doors and board; trains release people who walk up the stairs or escalator,
through the gates and out. This module is the core: the clock, who appears and leaves, the
queues being served and the trips between floors. The jobs around it have their own modules:
``timetable`` (trains), ``routing`` (where each person goes next), ``forces`` (how people move),
``queues`` (where people wait), ``crowd`` (the state).

Determinism: the state at time t depends only on the layout, the config, the seed and the start
time. After the warm-up (``warmup_s`` on ``warmup_step_s`` steps), steps lie on the fixed grid
``start_s + k * step_s`` whatever the times given to ``advance_to``, and every random draw
happens in a fixed order; so every process that builds a ``Simulation`` with the same arguments
sees the same crowd.
"""

from __future__ import annotations

import heapq
import itertools
from functools import lru_cache

import numpy as np

from simulator.config import SimulationConfig
from simulator.crowd import Agent, CrowdArrays
from simulator.forces import move_floor
from simulator.plan import Place, StationPlan, build_plan
from simulator.queues import Server, build_service_points
from simulator.routing import Router
from simulator.timetable import Timetable, alighting
from station import StationLayout

# Queues re-sort by distance to their front this often (steps).
REORDER_EVERY_STEPS = 5
# Walking speeds are drawn from a normal distribution clipped to this range.
SPEED_LIMITS_MPS = (0.6, 2.0)


@lru_cache(maxsize=4)
def _cached_plan(layout_json: str, config: SimulationConfig) -> StationPlan:
    return build_plan(StationLayout.model_validate_json(layout_json), config)


def plan_for(layout: StationLayout, config: SimulationConfig) -> StationPlan:
    """The plan of a layout, built once per process (building the flow fields takes a moment)."""
    return _cached_plan(layout.model_dump_json(), config)


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
        self.timetable = Timetable.of(self.config, len(self.plan.edges))
        self._floor_ids = list(self.plan.floors)
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._origin_s = float(start_s)
        self._steps = 0
        self._now_s = self._origin_s - self.config.warmup_s
        self._tick = 0
        self._agents: list[Agent] = []
        self._arrays = CrowdArrays()
        self._next_uid = 0
        self._pending: list[tuple[float, int, int, int]] = []
        self._transits: list[tuple[float, int, Agent]] = []
        self._services = build_service_points(self.plan, self.config)
        self._router = Router(
            self.plan, self.config, self.timetable, self._services, self._arrays, self._floor_ids, self._rng
        )
        self._warm_up()

    def _warm_up(self) -> None:
        """Fill the station: simulate ``warmup_s`` before the start, on coarser steps (it is not watched)."""
        count = int(np.ceil(self.config.warmup_s / self.config.warmup_step_s - 1e-9))
        first_s = self._origin_s - self.config.warmup_s
        times = [first_s + k * self.config.warmup_s / count for k in range(count)] + [self._origin_s]
        for now_s, end_s in itertools.pairwise(times):
            self._step(now_s, end_s)
        self._now_s = self._origin_s

    # ----- public interface -------------------------------------------------------------

    @property
    def time_s(self) -> float:
        """The simulation clock: the time of the last step."""
        return self._now_s

    def advance_to(self, now_s: float) -> None:
        """Step forward to the last step at or before ``now_s`` (never backwards).

        Raises:
            ValueError: ``now_s`` lies more than one step before the current time.
        """
        step = self.config.step_s
        if now_s < self.time_s - step:
            raise ValueError(f"cannot go back in time: at {self.time_s:.3f} s, asked for {now_s:.3f} s")
        target_steps = int(np.floor((now_s - self._origin_s) / step + 1e-9))
        while self._steps < target_steps:
            # Times from the step count, not by adding up steps, so that they never drift; each
            # step ends exactly where the next begins, so no train is counted twice or missed.
            end_s = self._origin_s + (self._steps + 1) * step
            self._step(self._origin_s + self._steps * step, end_s)
            self._steps += 1
            self._now_s = end_s

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
        return [len(server.queue) for server in self._services.all if server.kind == kind]

    def train_arrivals_s(self, from_s: float, to_s: float) -> list[tuple[float, int]]:
        """Trains arriving in ``[from_s, to_s)``: arrival time and platform-edge index."""
        return self.timetable.arrivals_s(from_s, to_s)

    # ----- one step ---------------------------------------------------------------------

    def _step(self, now_s: float, end_s: float) -> None:
        """Simulate ``[now_s, end_s)``: consecutive steps share their boundary times exactly."""
        self._now_s = now_s
        dt = end_s - now_s
        self._spawn_walk_ins(dt)
        self._schedule_trains(now_s, end_s)
        self._release_pending(end_s)
        self._finish_transits(end_s)
        self._serve(end_s)
        self._move(dt)
        self._tick += 1
        self._check_arrivals(end_s)
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
        for arrival_s, edge_index in self.timetable.arrivals_s(from_s, to_s):
            doors = len(self.plan.edges[edge_index].doors_m)
            for when_s, door in alighting(self.config, arrival_s, doors, self._rng):
                heapq.heappush(self._pending, (when_s, self._next_uid, edge_index, door))
                self._next_uid += 1

    def _release_pending(self, now_s: float) -> None:
        rng = self._rng
        while self._pending and self._pending[0][0] <= now_s:
            _, _, edge_index, door = heapq.heappop(self._pending)
            edge = self.plan.edges[edge_index]
            point = edge.doors_m[door] + edge.inward_m * 0.3 + edge.along_m * rng.uniform(-0.5, 0.5)
            legs: list[tuple] = [("tolink", self.plan.entry_floor)]
            if rng.random() < self.config.alighting_shop_probability:
                legs.append(("shop",))
            legs.append(("exit",))
            self._add(edge.floor_id, point, legs, None)

    def _add(self, floor_id: str, pos: np.ndarray, legs: list[tuple], origin: Place | None) -> None:
        config = self.config
        speed = float(
            np.clip(self._rng.normal(config.walking_speed_mps, config.walking_speed_sd_mps), *SPEED_LIMITS_MPS)
        )
        row = self._arrays.append(np.asarray(pos, dtype=np.float64), speed, self._floor_ids.index(floor_id))
        agent = Agent(uid=self._next_uid, row=row, legs=list(legs), origin=origin)
        self._next_uid += 1
        self._agents.append(agent)
        self._router.next_leg(agent, self.time_s)

    def _serve(self, now_s: float) -> None:
        arrays = self._arrays
        reorder = self._tick % REORDER_EVERY_STEPS == 0
        boarding = [self.timetable.boarding_open(edge_index, now_s) for edge_index in range(len(self.plan.edges))]
        for server in self._services.all:
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
            ready = now_s >= server.turnstile.free_at_s
            if server.kind == "door":
                ready = ready and boarding[server.edge_index]
            if ready and np.linalg.norm(arrays.pos[head.row] - server.head_m) < server.serve_radius_m:
                server.queue.pop(0)
                server.turnstile.free_at_s = now_s + server.service_s
                head.server = None
                self._on_served(head, server, now_s)
                changed = True
            if changed and server.queue:
                members = [agent.row for agent in server.queue]
                arrays.target[members] = server.slots_m(len(members))

    def _on_served(self, agent: Agent, server: Server, now_s: float) -> None:
        arrays, row = self._arrays, agent.row
        if server.kind == "gate":
            # Straight through the lane, not pushed by anyone (lanes are one person wide).
            agent.legs.insert(0, ("pass", server.lane_exit_m))
            self._router.next_leg(agent, now_s)
        elif server.kind == "door":
            agent.mode = "gone"
            arrays.queued[row] = False
        else:
            agent.mode = "transit"
            agent.until_s = now_s + server.travel_s
            agent.arrive_at = server.arrival
            arrays.floor[row] = -1
            arrays.queued[row] = False
            heapq.heappush(self._transits, (agent.until_s, agent.uid, agent))

    def _finish_transits(self, now_s: float) -> None:
        arrays, rng = self._arrays, self._rng
        while self._transits and self._transits[0][0] <= now_s:
            _, _, agent = heapq.heappop(self._transits)
            row, end = agent.row, agent.arrive_at
            if end is None:
                raise RuntimeError(f"person {agent.uid} is between floors with nowhere to arrive")
            offset = rng.uniform(-0.3, 0.3) * end.width_m
            arrays.pos[row] = end.point_m + end.across_m * offset
            arrays.vel[row] = end.back_m * arrays.speed[row]
            arrays.floor[row] = self._floor_ids.index(end.floor_id)
            agent.mode = "walk"
            self._router.next_leg(agent, now_s)

    def _check_arrivals(self, now_s: float) -> None:
        arrays = self._arrays
        offset = arrays.target - arrays.pos
        gaps = np.sqrt(np.einsum("ij,ij->i", offset, offset))
        for row in np.flatnonzero((gaps < arrays.arrive_tol) | (arrays.wake_s <= now_s)):
            self._router.next_leg(self._agents[int(row)], now_s)

    def _remove_gone(self) -> None:
        keep = np.array([agent.mode != "gone" for agent in self._agents], dtype=bool)
        if keep.all():
            return
        self._arrays.keep(keep)
        self._agents = [agent for agent, kept in zip(self._agents, keep, strict=True) if kept]
        for row, agent in enumerate(self._agents):
            agent.row = row

    def _move(self, dt: float) -> None:
        arrays = self._arrays
        for floor_index, floor_id in enumerate(self._floor_ids):
            rows = np.flatnonzero(arrays.floor == floor_index)
            if len(rows):
                move_floor(arrays, rows, self.plan.floors[floor_id], dt)
