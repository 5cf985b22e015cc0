"""The state of the simulated crowd: one row of arrays per person, and each person's plan.

The continuous state (position, velocity, target, ...) lives in numpy arrays so that a step
moves everyone at once; the discrete state (what a person does now and next) lives in one small
``Agent`` per person, which knows its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulator.plan import LinkEnd, Place
    from simulator.queues import Server


@dataclass(eq=False)
class Agent:
    """Bookkeeping of one simulated person (the continuous state lives in ``CrowdArrays``).

    Attributes:
        uid: Unique within the simulation, to order equal times deterministically.
        row: The person's row in the arrays.
        legs: What the person still means to do, in order (see ``simulator.routing``).
        mode: 'walk', 'pass', 'dwell', 'queue', 'transit' or 'gone'.
        server: The queue the person stands in, if any.
        until_s: End of a trip between floors.
        arrive_at: Where a trip between floors ends.
        origin: Where the person entered (so that they leave by another exit).
    """

    uid: int
    row: int
    legs: list[tuple]
    mode: str = "walk"
    server: Server | None = None
    until_s: float = 0.0
    arrive_at: LinkEnd | None = None
    origin: Place | None = None


ROWS = ("pos", "vel", "speed", "target", "field_id", "floor", "ghost", "queued", "arrive_tol", "wake_s")


@dataclass
class CrowdArrays:
    """Continuous state, one row per person.

    Attributes:
        pos: Foot positions ``(n, 2)``, metres on the person's floor.
        vel: Velocities ``(n, 2)``, metres per second.
        speed: Free walking speeds ``(n,)``.
        target: Where each person heads now ``(n, 2)``.
        field_id: The flow field towards the target (-1: straight at it).
        floor: Index of the person's floor (-1: between floors).
        ghost: Walking through a gate lane: pushing and pushed by nobody.
        queued: Standing in, or walking to, a place in a queue.
        arrive_tol: Distance to the target at which the leg is done (-1: never by distance).
        wake_s: Time at which a dwell ends (inf: none).
    """

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
        """Add a person standing at ``pos`` on floor index ``floor``; returns the new row."""
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
        """Drop the rows where ``mask`` is False."""
        for name in ROWS:
            setattr(self, name, getattr(self, name)[mask])
