"""From density to crowding grades: Fruin's level of service and the public 4-step level.

Both scales are "grade = number of bounds the density exceeds". A raw grade flickers when a
steady crowd sits at a bound (one person stepping in and out of a small zone), so grades go
through :class:`HysteresisGrade`: a grade rises only once the density is clearly above the
bound and falls only once it is clearly below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from homography.layout import Zone
from iconizer.types import LOS_GRADES, CrowdingLevel

# Used when a zone sets no hysteresis_per_m2: wide enough to absorb one person stepping in and
# out of a 20 m2 zone, narrow next to the gaps between Fruin bounds (>= 0.12 persons/m2).
DEFAULT_HYSTERESIS_PER_M2 = 0.05


def raw_grade(density_per_m2: float, bounds_per_m2: Sequence[float]) -> int:
    """How many bounds ``density_per_m2`` exceeds (a density equal to a bound stays below it)."""
    return int(np.searchsorted(np.asarray(bounds_per_m2, dtype=np.float64), density_per_m2, side="left"))


@dataclass
class HysteresisGrade:
    """A grade over increasing bounds that only changes when the density leaves a dead band.

    With half-width ``h = hysteresis_per_m2 / 2`` around each bound ``b``: the grade rises past
    ``b`` when the density exceeds ``b + h`` and falls back below ``b`` when it drops under
    ``b - h``. Inside ``[b - h, b + h]`` the previous grade holds, so a steady crowd anywhere in
    the band never changes the grade. The first value, and the first after :meth:`reset`, takes
    the plain grade.

    Attributes:
        bounds_per_m2: Strictly increasing grade bounds, persons/m2.
        hysteresis_per_m2: Total band width around each bound, persons/m2, >= 0.
    """

    bounds_per_m2: tuple[float, ...]
    hysteresis_per_m2: float
    grade: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        bounds = np.asarray(self.bounds_per_m2, dtype=np.float64)
        if bounds.ndim != 1 or len(bounds) == 0 or np.any(np.diff(bounds) <= 0):
            raise ValueError(f"bounds_per_m2 must be non-empty and strictly increasing, got {self.bounds_per_m2}")
        if not np.isfinite(self.hysteresis_per_m2) or self.hysteresis_per_m2 < 0:
            raise ValueError(f"hysteresis_per_m2 must be finite and >= 0, got {self.hysteresis_per_m2}")
        self._bounds = bounds
        half = self.hysteresis_per_m2 / 2
        self._rise = bounds + half
        self._fall = bounds - half

    def update(self, density_per_m2: float) -> int:
        """Feed the current (smoothed) density and return the grade to report."""
        if self.grade is None:
            self.grade = raw_grade(density_per_m2, self._bounds)
            return self.grade
        # Grade g may rise to the number of bounds whose rise point the density exceeds, and may
        # fall to the number of bounds whose fall point it still exceeds; otherwise it holds.
        high = int(np.searchsorted(self._rise, density_per_m2, side="left"))
        low = int(np.searchsorted(self._fall, density_per_m2, side="left"))
        if high > self.grade:
            self.grade = high
        elif low < self.grade:
            self.grade = low
        return self.grade

    def reset(self) -> None:
        """Forget the held grade (the zone went stale; its next value starts afresh)."""
        self.grade = None


@dataclass
class ZoneGrader:
    """Level of service and public level of one zone, each with hysteresis.

    Attributes:
        los: Fruin grade 0..5 (A..F) over ``zone.los_bounds_per_m2``.
        public: Public level 0..3 over ``zone.public_bounds_per_m2``.
    """

    los: HysteresisGrade
    public: HysteresisGrade

    @classmethod
    def for_zone(cls, zone: Zone, default_hysteresis_per_m2: float = DEFAULT_HYSTERESIS_PER_M2) -> ZoneGrader:
        """Bounds and hysteresis from the zone's kind and its per-zone overrides."""
        hysteresis = zone.thresholds.hysteresis_per_m2
        if hysteresis is None:
            hysteresis = default_hysteresis_per_m2
        return cls(
            los=HysteresisGrade(tuple(zone.los_bounds_per_m2), hysteresis),
            public=HysteresisGrade(tuple(zone.public_bounds_per_m2), hysteresis),
        )

    def update(self, density_per_m2: float) -> tuple[CrowdingLevel, str]:
        """Public level and LOS letter for the current smoothed density."""
        return CrowdingLevel(self.public.update(density_per_m2)), LOS_GRADES[self.los.update(density_per_m2)]

    def reset(self) -> None:
        """Forget both held grades."""
        self.los.reset()
        self.public.reset()
