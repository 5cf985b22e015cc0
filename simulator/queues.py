"""Service points of the simulation where people queue: gate lanes, stairs, escalators, train doors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.plan import LinkEnd


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
