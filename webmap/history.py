"""What the web tier needs from the history store (issue 4), as a protocol; the store is optional.

The staff trend, the "day against the usual day", the public "busier than usual" hint and the CSV
export read per-zone, per-minute aggregates through this interface only (PRIVACY.md P3: never
positions). Without a history store the web tier falls back to the last hour it saw itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

# Keys of one aggregate row, in CSV column order.
AGGREGATE_FIELDS = ("minute_start", "zone", "mean_count", "mean_density_per_m2", "peak_density_per_m2", "peak_level")


class HistorySource(Protocol):
    """Per-zone, per-minute aggregates of a station."""

    def series(self, station_id: str, zone_id: str, start_s: float, end_s: float) -> Iterable[Mapping[str, Any]]:
        """Minutes of one zone in ``[start_s, end_s)``, oldest first, as rows with ``AGGREGATE_FIELDS``."""

    def usual(self, station_id: str, zone_id: str, at_s: float) -> float | None:
        """The usual density (persons/m2) of the zone at this weekday and time of day, if known."""


def aggregate_row(row: Mapping[str, Any], zone_id: str) -> dict[str, Any]:
    """One row restricted to the aggregate fields (allow list: nothing else leaves the store)."""
    out = {"zone": zone_id}
    for key in AGGREGATE_FIELDS:
        if key != "zone":
            out[key] = row[key]
    return {key: out[key] for key in AGGREGATE_FIELDS}
