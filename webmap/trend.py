"""The last hour of each zone, per minute, kept in memory for the staff trend (aggregates only, P3)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from iconizer.types import ZoneState

MINUTE_S = 60.0


@dataclass(frozen=True)
class MinuteAggregate:
    """One zone over one minute.

    Attributes:
        minute_start: Start of the minute, unix seconds.
        mean_density_per_m2: Mean density over the live frames of the minute.
        peak_density_per_m2: Highest density in the minute.
        mean_count: Mean count of people.
        peak_level: Highest public level seen.
        frames: Live frames that went into it.
    """

    minute_start: float
    mean_density_per_m2: float
    peak_density_per_m2: float
    mean_count: float
    peak_level: int
    frames: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "minute_start": self.minute_start,
            "mean_density_per_m2": round(self.mean_density_per_m2, 3),
            "peak_density_per_m2": round(self.peak_density_per_m2, 3),
            "mean_count": round(self.mean_count, 2),
            "peak_level": self.peak_level,
            "frames": self.frames,
        }


class RecentTrend:
    """Per-minute aggregates of every zone of one station over the last ``minutes`` minutes.

    Args:
        minutes: How many minutes are kept; older minutes are forgotten.
    """

    def __init__(self, minutes: int = 60) -> None:
        if minutes < 1:
            raise ValueError(f"minutes must be >= 1, got {minutes}")
        self.minutes = minutes
        # zone -> minute start -> [density sum, peak density, count sum, peak level, frames]
        self._zones: dict[str, OrderedDict[float, list[float]]] = {}

    def update(self, zones: Iterable[ZoneState], timestamp_s: float) -> None:
        """Add one frame; stale zones are skipped (their density is unknown, not zero)."""
        minute = timestamp_s - timestamp_s % MINUTE_S
        for zone in zones:
            if zone.stale:
                continue
            buckets = self._zones.setdefault(zone.zone_id, OrderedDict())
            bucket = buckets.get(minute)
            if bucket is None:
                bucket = buckets[minute] = [0.0, 0.0, 0.0, 0.0, 0.0]
            bucket[0] += zone.density_per_m2
            bucket[1] = max(bucket[1], zone.density_per_m2)
            bucket[2] += zone.count
            bucket[3] = max(bucket[3], int(zone.level))
            bucket[4] += 1
            oldest = minute - (self.minutes - 1) * MINUTE_S
            while buckets and next(iter(buckets)) < oldest:
                buckets.popitem(last=False)

    def series(self, zone_id: str) -> list[MinuteAggregate]:
        """The zone's minutes, oldest first (empty for a zone never seen live)."""
        return [
            MinuteAggregate(minute, b[0] / b[4], b[1], b[2] / b[4], int(b[3]), int(b[4]))
            for minute, b in sorted(self._zones.get(zone_id, {}).items())
        ]
