"""The aggregator's history sink: stores every frame's zone aggregates and runs the purge job.

Pure of clocks: "now" is the time of the frames recorded, so a replay purges by replay time.
"""

from __future__ import annotations

from history.store import HistoryStore
from iconizer.types import IconFrame
from station import StationLayout

PURGE_INTERVAL_S = 3600.0


class HistoryRecorder:
    """Feeds icon frames of one station to a :class:`HistoryStore` and purges old minutes hourly.

    Args:
        layout: The station; ``publishing.history_retention_days`` sets the retention.
        store: Where the minutes go; the recorder owns it (see :meth:`close`).
        purge_interval_s: How often (in frame time) the retention purge runs.
    """

    def __init__(
        self, layout: StationLayout, store: HistoryStore, *, purge_interval_s: float = PURGE_INTERVAL_S
    ) -> None:
        if purge_interval_s <= 0:
            raise ValueError(f"purge_interval_s must be positive, got {purge_interval_s}")
        self.station_id = layout.station.id
        self.retention_days = layout.publishing.history_retention_days
        self.store = store
        self.purge_interval_s = purge_interval_s
        self._last_purge_s: float | None = None
        self.purged_rows = 0

    def record(self, frames: list[IconFrame]) -> None:
        """Store the frames' zone aggregates; purge expired minutes at most once per interval.

        Raises:
            ValueError: for frames of another station.
        """
        for frame in frames:
            if frame.station_id != self.station_id:
                raise ValueError(f"frame of station {frame.station_id!r}, expected {self.station_id!r}")
        self.store.record(frames)
        if not frames:
            return
        now_s = max(frame.timestamp_s for frame in frames)
        if self._last_purge_s is None or now_s - self._last_purge_s >= self.purge_interval_s:
            self.purged_rows += self.store.purge(now_s, self.retention_days)
            self._last_purge_s = now_s

    def close(self) -> None:
        """Write the open minute and close the store."""
        self.store.close()
