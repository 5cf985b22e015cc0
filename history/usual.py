"""The "usual" crowding of a zone: the median of the same weekday and time of day over past weeks.

Pure time arithmetic and statistics; :mod:`history.store` runs the queries. Weeks are counted
in the station's local wall-clock time, so "Monday 08:00" stays 08:00 across a DST change.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Usual:
    """What a zone usually looks like at one weekday and time of day.

    Attributes:
        density_per_m2: Median over past weeks of the mean density in the time slot.
        count: Median over past weeks of the mean count in the time slot.
        weeks: How many past weeks had data (the median's sample size).
    """

    density_per_m2: float
    count: float
    weeks: int


def past_week_slots(at_s: float, *, weeks: int, slot_s: float, timezone: str) -> list[tuple[float, float]]:
    """``[start_s, end_s)`` windows centred on the same local weekday and time, 1..``weeks`` weeks back.

    Args:
        at_s: The instant to compare, unix seconds.
        weeks: How many past weeks, >= 1.
        slot_s: Width of each window, seconds (> 0).
        timezone: IANA name of the station's time zone, e.g. ``"Asia/Tokyo"``.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be >= 1, got {weeks}")
    if slot_s <= 0:
        raise ValueError(f"slot_s must be positive, got {slot_s}")
    local = datetime.fromtimestamp(at_s, ZoneInfo(timezone))
    slots = []
    for k in range(1, weeks + 1):
        # Aware datetime minus timedelta is wall-clock arithmetic; .timestamp() re-applies the offset.
        centre_s = (local - timedelta(weeks=k)).timestamp()
        slots.append((centre_s - slot_s / 2, centre_s + slot_s / 2))
    return slots


def usual_from_weeks(per_week: list[tuple[float, float]]) -> Usual | None:
    """Median over weeks of ``(mean_density_per_m2, mean_count)``; None when no week has data."""
    if not per_week:
        return None
    return Usual(
        density_per_m2=statistics.median(d for d, _ in per_week),
        count=statistics.median(c for _, c in per_week),
        weeks=len(per_week),
    )
