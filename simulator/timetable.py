"""When trains stand at which platform edge, and when their passengers step off.

Trains arrive at absolute times ``k * interval_s + offset_s`` (k an integer) and train ``k``
stops at platform edge ``k mod tracks``: every process that simulates the same clock sees the
same trains, and with two edges the tracks alternate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.config import SimulationConfig

# Doors open this long after a train stops; boarding stops this long before it leaves.
DOORS_OPEN_AFTER_S = 2.0
BOARDING_FROM_S = 3.0
BOARDING_ENDS_BEFORE_S = 2.0
# Passengers choose the track of a train that leaves at least this long from now.
CATCH_MARGIN_S = 5.0


@dataclass(frozen=True)
class Timetable:
    """The trains of a simulated station.

    Attributes:
        interval_s: Time between trains over all tracks.
        offset_s: Arrival time of train 0.
        dwell_s: How long a train stands with its doors open.
        tracks: Number of platform edges, used in turn.
    """

    interval_s: float
    offset_s: float
    dwell_s: float
    tracks: int

    @classmethod
    def of(cls, config: SimulationConfig, tracks: int) -> Timetable:
        """The timetable of ``config`` over ``tracks`` platform edges."""
        return cls(config.train_interval_s, config.train_offset_s, config.train_dwell_s, tracks)

    def arrivals_s(self, from_s: float, to_s: float) -> list[tuple[float, int]]:
        """Trains arriving in ``[from_s, to_s)``: arrival time and platform-edge index."""
        first = math.ceil((from_s - self.offset_s) / self.interval_s)
        last = math.ceil((to_s - self.offset_s) / self.interval_s)
        return [(k * self.interval_s + self.offset_s, k % self.tracks) for k in range(first, last)]

    def boarding_open(self, track: int, now_s: float) -> bool:
        """Whether a train stands at ``track`` with its doors open for boarding at ``now_s``."""
        k = math.floor((now_s - self.offset_s) / self.interval_s)
        since = now_s - (k * self.interval_s + self.offset_s)
        return k % self.tracks == track and BOARDING_FROM_S <= since <= self.dwell_s - BOARDING_ENDS_BEFORE_S

    def next_track(self, now_s: float) -> int:
        """The track of the next train that someone arriving on the platform now can still catch."""
        k = math.ceil((now_s - self.offset_s - self.dwell_s + CATCH_MARGIN_S) / self.interval_s)
        return k % self.tracks


def alighting(
    config: SimulationConfig, arrival_s: float, doors: int, rng: np.random.Generator
) -> list[tuple[float, int]]:
    """Who steps off a train arriving at ``arrival_s``: each person's time and door index.

    The number is Poisson with mean ``config.alighting_mean``; people step off uniformly over
    ``config.alight_spread_s`` once the doors open, each through a door drawn uniformly.
    """
    people = []
    for _ in range(rng.poisson(config.alighting_mean)):
        when_s = arrival_s + DOORS_OPEN_AFTER_S + rng.uniform(0, config.alight_spread_s)
        people.append((when_s, int(rng.integers(doors))))
    return people
