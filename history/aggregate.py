"""Fold icon frames into per-zone, per-minute aggregates (pure; no clock, no storage).

Only zone-level numbers enter here (PRIVACY.md P3): the dots of a frame are never read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from iconizer.types import LOS_GRADES, CrowdingLevel, IconFrame

MINUTE_S = 60


def minute_of(timestamp_s: float) -> int:
    """Start of the UTC minute holding ``timestamp_s``, unix seconds."""
    return math.floor(timestamp_s / MINUTE_S) * MINUTE_S


@dataclass(frozen=True)
class ZoneMinute:
    """Crowding of one zone during one minute.

    Attributes:
        station_id: The station.
        zone_id: The zone.
        minute_s: Start of the minute, unix seconds (a multiple of 60).
        count_mean: Mean people count over the minute's live frames.
        count_peak: Highest count in a live frame.
        density_mean_per_m2: Mean smoothed density over live frames, persons/m2.
        density_peak_per_m2: Highest smoothed density, persons/m2.
        level: Highest public level reported during the minute.
        los: Worst Fruin level of service reported during the minute (``"A"``..``"F"``).
        live_samples: Frames in which the zone was covered by a live camera.
        stale_samples: Frames in which the zone was stale (unknown); they add nothing to the means.
    """

    station_id: str
    zone_id: str
    minute_s: int
    count_mean: float
    count_peak: int
    density_mean_per_m2: float
    density_peak_per_m2: float
    level: CrowdingLevel
    los: str
    live_samples: int
    stale_samples: int

    def __post_init__(self) -> None:
        if not self.station_id or not self.zone_id:
            raise ValueError(f"station_id and zone_id must be non-empty, got {self.station_id!r}, {self.zone_id!r}")
        if self.minute_s % MINUTE_S != 0:
            raise ValueError(f"minute_s must be a multiple of {MINUTE_S}, got {self.minute_s}")
        if self.live_samples < 0 or self.stale_samples < 0 or self.live_samples + self.stale_samples == 0:
            raise ValueError(
                f"need live_samples, stale_samples >= 0 and at least one sample, "
                f"got {self.live_samples}, {self.stale_samples}"
            )
        for name in ("count_mean", "density_mean_per_m2", "density_peak_per_m2"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        if self.count_peak < 0:
            raise ValueError(f"count_peak must be >= 0, got {self.count_peak}")
        if self.los not in LOS_GRADES:
            raise ValueError(f"los must be one of {LOS_GRADES}, got {self.los!r}")
        object.__setattr__(self, "level", CrowdingLevel(self.level))

    @property
    def stale(self) -> bool:
        """True when the zone was unknown for the whole minute (its numbers mean nothing)."""
        return self.live_samples == 0


@dataclass
class _Accumulator:
    count_sum: float = 0.0
    count_peak: int = 0
    density_sum: float = 0.0
    density_peak: float = 0.0
    level: int = 0
    los: str = "A"
    live: int = 0
    stale: int = 0

    def to_minute(self, station_id: str, zone_id: str, minute_s: int) -> ZoneMinute:
        n = max(self.live, 1)
        return ZoneMinute(
            station_id,
            zone_id,
            minute_s,
            self.count_sum / n,
            self.count_peak,
            self.density_sum / n,
            self.density_peak,
            CrowdingLevel(self.level),
            self.los,
            self.live,
            self.stale,
        )


@dataclass
class MinuteAggregator:
    """Accumulates icon frames of one station and emits each zone's minute once it is over.

    A minute is over when a frame of a later minute arrives; :meth:`flush` emits the open one.
    Frames must arrive in time order.

    Attributes:
        station_id: The station whose frames are accepted.
    """

    station_id: str
    _open_minute_s: int | None = field(default=None, init=False)
    _zones: dict[str, _Accumulator] = field(default_factory=dict, init=False)

    def add(self, frames: Iterable[IconFrame]) -> list[ZoneMinute]:
        """Add frames (any floors, time order) and return the minutes they closed.

        Raises:
            ValueError: for a frame of another station or of a minute already emitted.
        """
        closed: list[ZoneMinute] = []
        for frame in frames:
            if frame.station_id != self.station_id:
                raise ValueError(f"frame of station {frame.station_id!r}, expected {self.station_id!r}")
            minute_s = minute_of(frame.timestamp_s)
            if self._open_minute_s is not None and minute_s < self._open_minute_s:
                raise ValueError(
                    f"frame at {frame.timestamp_s} belongs to minute {minute_s}, "
                    f"which is before the open minute {self._open_minute_s}"
                )
            if self._open_minute_s is not None and minute_s > self._open_minute_s:
                closed.extend(self.flush())
            self._open_minute_s = minute_s
            for zone in frame.zones:
                acc = self._zones.setdefault(zone.zone_id, _Accumulator())
                if zone.stale:
                    acc.stale += 1
                    continue
                acc.live += 1
                acc.count_sum += zone.count
                acc.count_peak = max(acc.count_peak, zone.count)
                acc.density_sum += zone.density_per_m2
                acc.density_peak = max(acc.density_peak, zone.density_per_m2)
                acc.level = max(acc.level, int(zone.level))
                acc.los = max(acc.los, zone.los)
        return closed

    def flush(self) -> list[ZoneMinute]:
        """Emit the open minute of every zone (at shutdown, or to write a partial minute)."""
        if self._open_minute_s is None:
            return []
        minutes = [acc.to_minute(self.station_id, z, self._open_minute_s) for z, acc in sorted(self._zones.items())]
        self._zones = {}
        return minutes
