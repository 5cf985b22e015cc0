"""The history store as one station's web tier reads it (``webmap.history.HistorySource``).

A thin view of a :class:`HistoryStore` that answers "usual" questions in the station's own time
zone; series and CSV export pass straight through. Only zone aggregates ever come out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from history.aggregate import ZoneMinute
from history.store import HistoryStore
from history.usual import Usual


class StoreHistorySource:
    """Per-zone minute aggregates of a store, with the usual day taken in ``timezone``.

    Args:
        store: The store to read.
        weeks: Past weeks the usual day is taken from.
        timezone: The station's IANA time zone (``layout.station.timezone``).
    """

    def __init__(self, store: HistoryStore, *, weeks: int = 8, timezone: str = "Asia/Tokyo") -> None:
        if weeks < 1:
            raise ValueError(f"weeks must be >= 1, got {weeks}")
        self.store = store
        self.weeks = weeks
        self.timezone = timezone

    def series(self, station_id: str, zone_id: str | None, since_s: float, until_s: float) -> list[ZoneMinute]:
        """Stored minutes with ``since_s <= minute_s < until_s`` (stale minutes included, marked)."""
        return self.store.series(station_id, zone_id, since_s, until_s)

    def usual(self, station_id: str, zone_id: str, at_s: float) -> Usual | None:
        """The zone's usual crowding at this local weekday and time of day; None without history."""
        return self.store.usual(station_id, zone_id, at_s, weeks=self.weeks, timezone=self.timezone)

    def export_csv(
        self, out: TextIO, station_id: str, since_s: float, until_s: float, zone_id: str | None = None
    ) -> int:
        """Write the aggregates of a period as CSV; returns the number of rows."""
        return self.store.export_csv(out, station_id, since_s, until_s, zone_id)


class StationHistories:
    """The history of several stations, each read from its own source (one web process, many stations).

    A station without a source has no history: empty series, no usual day, an empty export.
    """

    def __init__(self, sources: Mapping[str, StoreHistorySource]) -> None:
        self.sources = dict(sources)

    def series(self, station_id: str, zone_id: str | None, since_s: float, until_s: float) -> list[ZoneMinute]:
        """Stored minutes of one station with ``since_s <= minute_s < until_s``."""
        source = self.sources.get(station_id)
        return source.series(station_id, zone_id, since_s, until_s) if source else []

    def usual(self, station_id: str, zone_id: str, at_s: float) -> Usual | None:
        """The zone's usual crowding at this local weekday and time of day; None without history."""
        source = self.sources.get(station_id)
        return source.usual(station_id, zone_id, at_s) if source else None

    def export_csv(
        self, out: TextIO, station_id: str, since_s: float, until_s: float, zone_id: str | None = None
    ) -> int:
        """Write one station's aggregates of a period as CSV; returns the number of rows."""
        source = self.sources.get(station_id)
        return source.export_csv(out, station_id, since_s, until_s, zone_id) if source else 0
