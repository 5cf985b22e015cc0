"""Where simulated people go next: each person's legs, expanded one at a time into simple moves.

A person carries a list of legs. Composite legs expand into simple ones when they come up:

- ``("goto", point, tolerance, field_point)``: walk there, through a gate line if one lies between;
- ``("shop",)``: a shop front on this side of the gates, then a dwell there;
- ``("exit",)``: an exit of this floor other than the one the person came in by, then leave;
- ``("tolink", floor)``: the nearest stairs or escalator towards ``floor``, then take it;
- ``("board",)``: a door of the next train, chosen by distance and queue length.

Simple legs set the person's target and mode: ``walk``, ``pass`` (straight through a gate lane),
``dwell``, ``leave``, and joining a queue (``gate``, ``link``, ``board``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config import SimulationConfig
from simulator.crowd import Agent, CrowdArrays
from simulator.plan import JOIN_RADIUS_M, StationPlan
from simulator.queues import Server, ServicePoints
from simulator.timetable import Timetable

WALK_TOLERANCE_M = 0.5
EXIT_TOLERANCE_M = 1.0
# A lane is "passed" once its far end is this close.
PASS_TOLERANCE_M = 0.3
# Door choice: doors further than this (metres) are chosen e times less often.
DOOR_DISTANCE_SCALE_M = 25.0


@dataclass
class Router:
    """Turns people's legs into targets and queue places.

    It shares the simulation's random generator, so that the draws stay in one fixed order.
    """

    plan: StationPlan
    config: SimulationConfig
    timetable: Timetable
    services: ServicePoints
    arrays: CrowdArrays
    floor_ids: list[str]
    rng: np.random.Generator

    def next_leg(self, agent: Agent, now_s: float) -> None:
        """Start the agent's next leg, expanding composite legs into simple ones."""
        row, arrays, rng = agent.row, self.arrays, self.rng
        floor_id = self.floor_ids[arrays.floor[row]]
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
                arrays.arrive_tol[row] = PASS_TOLERANCE_M
                arrays.target[row] = leg[1]
                arrays.field_id[row] = -1
                arrays.ghost[row] = True
                return
            elif kind == "dwell":
                agent.mode = "dwell"
                arrays.wake_s[row] = now_s + leg[1]
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
                servers = self.services.links.get((floor_id, leg[1]), [])
                if not servers:
                    raise RuntimeError(f"no stairs or escalator from {floor_id!r} to {leg[1]!r}")
                gaps = [np.linalg.norm(s.field_point_m - arrays.pos[row]) for s in servers]
                nearest = servers[int(np.argmin(gaps))]
                agent.legs[0:0] = [
                    ("goto", nearest.field_point_m, JOIN_RADIUS_M, nearest.field_point_m),
                    ("link", leg[1]),
                ]
            elif kind == "link":
                servers = self.services.links[(floor_id, leg[1])]
                self.join(agent, min(servers, key=lambda s: s.wait_s() + 0.01 * len(s.queue)))
                return
            elif kind == "gate":
                servers = self.services.gates[(leg[1], leg[2])]
                position = arrays.pos[row]
                costs = [s.wait_s() + np.linalg.norm(s.head_m - position) / arrays.speed[row] for s in servers]
                self.join(agent, servers[int(np.argmin(costs))])
                return
            elif kind == "board":
                self.join(agent, self.choose_door(agent, now_s))
                return
            else:
                raise ValueError(f"unknown leg {kind!r}")

    def choose_door(self, agent: Agent, now_s: float) -> Server:
        """The door to wait at: on the next train's track, near and with a short queue."""
        servers = self.services.doors[self.timetable.next_track(now_s)]
        position = self.arrays.pos[agent.row]
        gaps = np.array([np.linalg.norm(s.head_m - position) for s in servers])
        lengths = np.array([len(s.queue) for s in servers], dtype=np.float64)
        weights = np.exp(-gaps / DOOR_DISTANCE_SCALE_M) / (1.0 + lengths) ** 2
        return servers[int(self.rng.choice(len(servers), p=weights / weights.sum()))]

    def join(self, agent: Agent, server: Server) -> None:
        """Put the agent at the back of a queue."""
        agent.mode = "queue"
        agent.server = server
        server.queue.append(agent)
        self.arrays.target[agent.row] = server.slots_m(len(server.queue))[-1]
        self.arrays.field_id[agent.row] = server.field_id
        self.arrays.queued[agent.row] = True
