"""What the web tier needs from the history store (``history.store.HistoryStore``), as a protocol.

The staff trend, the "day against the usual day", the public "busier than usual" hint and the CSV
export read per-zone, per-minute aggregates through this interface only (PRIVACY.md P3: never
positions). The store is optional: without one the web tier falls back to the last hour it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TextIO

# Keys of one aggregate row served by the API, in order.
AGGREGATE_FIELDS = ("minute_start", "zone", "mean_count", "mean_density_per_m2", "peak_density_per_m2", "peak_level")
# The public "busier than usual" hint, decided here and nowhere else: the map only compares a zone's
# density with the threshold /usual sends (busier_from_per_m2).
MIN_USUAL_WEEKS = 2  # a usual value needs this many past weeks
BUSIER_RATIO = 1.3  # clearly above the usual density: by 30 % ...
BUSIER_MIN_EXCESS_PER_M2 = 0.1  # ... and by 0.1 person/m2, so 2 people instead of 1 is not "busier"


class MinuteLike(Protocol):
    """One zone-minute as ``history.aggregate.ZoneMinute`` has it (read-only, so frozen types fit)."""

    @property
    def zone_id(self) -> str: ...
    @property
    def minute_s(self) -> int: ...
    @property
    def count_mean(self) -> float: ...
    @property
    def density_mean_per_m2(self) -> float: ...
    @property
    def density_peak_per_m2(self) -> float: ...
    @property
    def level(self) -> int: ...
    @property
    def live_samples(self) -> int: ...


class UsualLike(Protocol):
    """``history.usual.Usual`` (read-only)."""

    @property
    def density_per_m2(self) -> float: ...
    @property
    def weeks(self) -> int: ...


class HistorySource(Protocol):
    """Per-zone, per-minute aggregates of a station (``history.store.HistoryStore`` implements it)."""

    def series(self, station_id: str, zone_id: str | None, since_s: float, until_s: float) -> Sequence[MinuteLike]:
        """Stored minutes with ``since_s <= minute_s < until_s``."""

    def usual(self, station_id: str, zone_id: str, at_s: float) -> UsualLike | None:
        """The zone's usual crowding at this weekday and time of day, if known."""

    def export_csv(
        self, out: TextIO, station_id: str, since_s: float, until_s: float, zone_id: str | None = None
    ) -> int:
        """Write the aggregates of a period as CSV; returns the number of rows."""


def minute_row(minute: MinuteLike) -> dict[str, Any]:
    """A stored zone-minute as an API row (allow list: nothing else leaves the store)."""
    return {
        "minute_start": float(minute.minute_s),
        "zone": str(minute.zone_id),
        "mean_count": round(float(minute.count_mean), 2),
        "mean_density_per_m2": round(float(minute.density_mean_per_m2), 3),
        "peak_density_per_m2": round(float(minute.density_peak_per_m2), 3),
        "peak_level": int(minute.level),
    }


def trend_row(aggregate: dict[str, Any], zone_id: str) -> dict[str, Any]:
    """A minute of the in-memory trend (``webmap.trend``) as an API row."""
    return {
        "minute_start": float(aggregate["minute_start"]),
        "zone": zone_id,
        "mean_count": aggregate["mean_count"],
        "mean_density_per_m2": aggregate["mean_density_per_m2"],
        "peak_density_per_m2": aggregate["peak_density_per_m2"],
        "peak_level": aggregate["peak_level"],
    }


def usual_density(source: HistorySource | None, station_id: str, zone_id: str, at_s: float) -> float | None:
    """The usual density to compare against, or ``None`` without a store or enough past weeks."""
    return usual_and_weeks(source, station_id, zone_id, at_s)[0]


def usual_and_weeks(
    source: HistorySource | None, station_id: str, zone_id: str, at_s: float
) -> tuple[float | None, int]:
    """The usual density (``None`` below ``MIN_USUAL_WEEKS``) and how many past weeks it rests on."""
    if source is None:
        return None, 0
    usual = source.usual(station_id, zone_id, at_s)
    if usual is None:
        return None, 0
    weeks = int(usual.weeks)
    if weeks < MIN_USUAL_WEEKS:
        return None, weeks
    return round(float(usual.density_per_m2), 3), weeks


def busier_from(usual_density_per_m2: float | None) -> float | None:
    """The density from which a zone reads "busier than usual", or ``None`` without a usual value.

    Both conditions of the hint at once: at least ``BUSIER_RATIO`` times the usual density and at
    least ``BUSIER_MIN_EXCESS_PER_M2`` above it.
    """
    if usual_density_per_m2 is None:
        return None
    return round(max(BUSIER_RATIO * usual_density_per_m2, usual_density_per_m2 + BUSIER_MIN_EXCESS_PER_M2), 3)
