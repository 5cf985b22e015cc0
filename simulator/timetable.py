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

# Doors open this long after a train stops; boarding starts this long after the average door's
# last passenger stepped off, and stops this long before the train leaves.
DOORS_OPEN_AFTER_S = 2.0
BOARDING_AFTER_ALIGHTING_S = 1.0
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
        boarding_from_s: When boarding starts, after the train's arrival (people get off first).
    """

    interval_s: float
    offset_s: float
    dwell_s: float
    tracks: int
    boarding_from_s: float = DOORS_OPEN_AFTER_S + BOARDING_AFTER_ALIGHTING_S

    @classmethod
    def of(cls, config: SimulationConfig, tracks: int) -> Timetable:
        """The timetable of ``config`` over ``tracks`` platform edges."""
        alighting_s = config.alighting_mean / config.doors_per_side * config.door_alight_s
        boarding_from_s = DOORS_OPEN_AFTER_S + alighting_s + BOARDING_AFTER_ALIGHTING_S
        return cls(config.train_interval_s, config.train_offset_s, config.train_dwell_s, tracks, boarding_from_s)

    def arrivals_s(self, from_s: float, to_s: float) -> list[tuple[float, int]]:
        """Trains arriving in ``[from_s, to_s)``: arrival time and platform-edge index."""
        first = math.ceil((from_s - self.offset_s) / self.interval_s)
        last = math.ceil((to_s - self.offset_s) / self.interval_s)
        return [(k * self.interval_s + self.offset_s, k % self.tracks) for k in range(first, last)]

    def boarding_open(self, track: int, now_s: float) -> bool:
        """Whether a train stands at ``track`` with its doors open for boarding at ``now_s``."""
        k = math.floor((now_s - self.offset_s) / self.interval_s)
        since = now_s - (k * self.interval_s + self.offset_s)
        return k % self.tracks == track and self.boarding_from_s <= since <= self.dwell_s - BOARDING_ENDS_BEFORE_S

    def next_track(self, now_s: float) -> int:
        """The track of the next train that someone arriving on the platform now can still catch."""
        k = math.ceil((now_s - self.offset_s - self.dwell_s + CATCH_MARGIN_S) / self.interval_s)
        return k % self.tracks


def alighting(
    config: SimulationConfig, arrival_s: float, doors: int, rng: np.random.Generator
) -> list[tuple[float, int]]:
    """Who steps off a train arriving at ``arrival_s``: each person's time and door index, in time order.

    The number is Poisson with mean ``config.alighting_mean``, each through a door drawn
    uniformly; once the doors open, each door lets one person off every ``config.door_alight_s``
    (with a random delay of up to one such gap, so that doors do not step in time).
    """
    count = int(rng.poisson(config.alighting_mean))
    door = rng.integers(doors, size=count)
    delay = rng.uniform(0.0, config.door_alight_s, count)
    # Each person's place in the line at their door.
    order = np.argsort(door, kind="stable")
    place = np.empty(count, dtype=np.int64)
    starts = np.searchsorted(door[order], np.arange(doors))
    place[order] = np.arange(count) - np.repeat(starts, np.bincount(door, minlength=doors))
    when_s = arrival_s + DOORS_OPEN_AFTER_S + place * config.door_alight_s + delay
    by_time = np.argsort(when_s, kind="stable")
    return [(float(when_s[i]), int(door[i])) for i in by_time]
