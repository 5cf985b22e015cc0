"""The history store as the web tier reads it (``webmap.history.HistorySource``).

Rows carry only zone aggregates, under the keys the web tier allow-lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from history.aggregate import ZoneMinute
from history.store import HistoryStore


def minute_to_row(minute: ZoneMinute) -> dict[str, Any]:
    """One minute as the web tier's aggregate row.

    The keys of ``webmap.history.AGGREGATE_FIELDS``, plus ``peak_count``, ``los`` and ``stale``
    for the staff view.
    """
    return {
        "minute_start": minute.minute_s,
        "zone": minute.zone_id,
        "mean_count": round(minute.count_mean, 3),
        "mean_density_per_m2": round(minute.density_mean_per_m2, 4),
        "peak_density_per_m2": round(minute.density_peak_per_m2, 4),
        "peak_level": int(minute.level),
        "peak_count": minute.count_peak,
        "los": minute.los,
        "stale": minute.stale,
    }


class StoreHistorySource:
    """Adapts a :class:`HistoryStore` to the web tier's ``HistorySource`` protocol.

    Args:
        store: The store to read.
        weeks: Past weeks the usual day is taken from.
        timezone: The station's IANA time zone (``layout.station.timezone``).
    """

    def __init__(self, store: HistoryStore, *, weeks: int = 8, timezone: str = "Asia/Tokyo") -> None:
        self.store = store
        self.weeks = weeks
        self.timezone = timezone

    def series(self, station_id: str, zone_id: str, start_s: float, end_s: float) -> list[Mapping[str, Any]]:
        """Minutes of one zone in ``[start_s, end_s)``, oldest first; stale minutes are left out."""
        return [minute_to_row(m) for m in self.store.series(station_id, zone_id, start_s, end_s) if not m.stale]

    def usual(self, station_id: str, zone_id: str, at_s: float) -> float | None:
        """The usual density (persons/m2) at this weekday and time of day, None without history."""
        usual = self.store.usual(station_id, zone_id, at_s, weeks=self.weeks, timezone=self.timezone)
        return None if usual is None else usual.density_per_m2
