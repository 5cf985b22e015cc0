"""From density to crowding grades: Fruin's level of service and the public 4-step level.

Both scales are "grade = number of bounds the density exceeds". A raw grade flickers when a
steady crowd sits at a bound (one person stepping in and out of a small zone), so grades go
through :class:`HysteresisGrades`: a grade rises only once the density is clearly above the
bound and falls only once it is clearly below it. Every zone of a floor is graded in one
vectorised update (a step grades tens of zones; per-zone Python calls would dominate it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iconizer.types import LOS_GRADES
from station import Zone

# Used when a zone sets no hysteresis_per_m2: wide enough to absorb one person stepping in and
# out of a 20 m2 zone, narrow next to the gaps between Fruin bounds (>= 0.12 persons/m2).
DEFAULT_HYSTERESIS_PER_M2 = 0.05

NO_GRADE = -1


def raw_grades(density_per_m2: npt.ArrayLike, bounds_per_m2: npt.ArrayLike) -> np.ndarray:
    """How many bounds each density exceeds (a density equal to a bound stays below it).

    Args:
        density_per_m2: ``(z,)`` densities, persons/m2.
        bounds_per_m2: ``(z, k)`` strictly increasing bounds per zone, or ``(k,)`` for all zones.

    Returns:
        ``(z,)`` int grades in ``0..k``.
    """
    density = np.asarray(density_per_m2, dtype=np.float64)
    bounds = np.asarray(bounds_per_m2, dtype=np.float64)
    return np.count_nonzero(density[:, None] > np.atleast_2d(bounds), axis=1)


class HysteresisGrades:
    """Grades of several zones over increasing bounds, each changing only outside a dead band.

    With half-width ``h = hysteresis_per_m2 / 2`` around each bound ``b``: a grade rises past
    ``b`` when the density exceeds ``b + h`` and falls back below ``b`` when it drops under
    ``b - h``. Inside ``[b - h, b + h]`` the previous grade holds, so a steady crowd anywhere in
    the band never changes the grade. A zone's first value, and its first after a reset, takes
    the plain grade.

    Args:
        bounds_per_m2: ``(z, k)`` strictly increasing bounds per zone, persons/m2.
        hysteresis_per_m2: ``(z,)`` total band width around each bound, persons/m2, >= 0.
    """

    def __init__(self, bounds_per_m2: npt.ArrayLike, hysteresis_per_m2: npt.ArrayLike) -> None:
        bounds = np.array(bounds_per_m2, dtype=np.float64, ndmin=2)
        hysteresis = np.array(hysteresis_per_m2, dtype=np.float64, ndmin=1)
        if bounds.ndim != 2 or bounds.shape[1] == 0 or np.any(np.diff(bounds, axis=1) <= 0):
            raise ValueError(f"bounds_per_m2 must be non-empty and strictly increasing per zone, got {bounds.tolist()}")
        if hysteresis.shape != (len(bounds),):
            raise ValueError(f"hysteresis_per_m2 must have shape ({len(bounds)},), got {hysteresis.shape}")
        if not np.all(np.isfinite(hysteresis)) or np.any(hysteresis < 0):
            raise ValueError(f"hysteresis_per_m2 must be finite and >= 0, got {hysteresis.tolist()}")
        self.bounds_per_m2 = bounds
        self.hysteresis_per_m2 = hysteresis
        self._rise = bounds + hysteresis[:, None] / 2
        self._fall = bounds - hysteresis[:, None] / 2
        self.grades = np.full(len(bounds), NO_GRADE, dtype=np.int64)

    def update(self, density_per_m2: npt.ArrayLike, valid: npt.ArrayLike | None = None) -> np.ndarray:
        """Feed the current (smoothed) densities and return the grades to report.

        Args:
            density_per_m2: ``(z,)`` densities, persons/m2.
            valid: ``(z,)`` bool; a zone marked False (stale) is reset and reports grade 0.

        Returns:
            ``(z,)`` int grades (a copy).
        """
        density = np.asarray(density_per_m2, dtype=np.float64)
        if density.shape != self.grades.shape:
            raise ValueError(f"density_per_m2 must have shape {self.grades.shape}, got {density.shape}")
        # A grade may rise to the number of rise points the density exceeds, and fall to the number
        # of fall points it still exceeds; otherwise it holds.
        high = raw_grades(density, self._rise)
        low = raw_grades(density, self._fall)
        held = self.grades
        new = np.where(high > held, high, np.where(low < held, low, held))
        fresh = held == NO_GRADE
        if fresh.any():
            new[fresh] = raw_grades(density[fresh], self.bounds_per_m2[fresh])
        if valid is not None:
            new = np.where(np.asarray(valid, dtype=bool), new, NO_GRADE)
        self.grades = new
        return np.maximum(new, 0)

    def reset(self) -> None:
        """Forget every held grade."""
        self.grades[:] = NO_GRADE


@dataclass
class FloorGrader:
    """Level of service and public level of every zone of a floor, each with hysteresis.

    Attributes:
        los: Fruin grades 0..5 (A..F) over each zone's ``los_bounds_per_m2``.
        public: Public levels 0..3 over each zone's ``public_bounds_per_m2``.
    """

    los: HysteresisGrades
    public: HysteresisGrades

    @classmethod
    def for_zones(
        cls, zones: Sequence[Zone], default_hysteresis_per_m2: float = DEFAULT_HYSTERESIS_PER_M2
    ) -> FloorGrader:
        """Bounds and hysteresis from each zone's kind and its per-zone overrides."""
        hysteresis = [
            default_hysteresis_per_m2 if z.thresholds.hysteresis_per_m2 is None else z.thresholds.hysteresis_per_m2
            for z in zones
        ]
        los = np.array([z.los_bounds_per_m2 for z in zones], dtype=np.float64).reshape(len(zones), 5)
        public = np.array([z.public_bounds_per_m2 for z in zones], dtype=np.float64).reshape(len(zones), 3)
        return cls(los=HysteresisGrades(los, hysteresis), public=HysteresisGrades(public, hysteresis))

    def update(self, density_per_m2: npt.ArrayLike, valid: npt.ArrayLike | None = None) -> tuple[np.ndarray, list[str]]:
        """Public levels ``(z,)`` and LOS letters for the current smoothed densities."""
        levels = self.public.update(density_per_m2, valid)
        los = self.los.update(density_per_m2, valid)
        return levels, [LOS_GRADES[g] for g in los.tolist()]
