"""Staff alerts: a zone entering a configured crowding level, with hysteresis and acknowledgement.

Pure state machine over zone states; no clock (timestamps come with the frames) and no I/O.
An alert is *raised* when a live zone's public level reaches ``alert_level``. It *clears* only
when the zone's density falls below the level's lower bound minus a hysteresis margin, so a
zone hovering at the boundary raises one alert, not one per frame.

An alert's id is its zone and the time of the frame that raised it: every web process of a
scaled-out deployment sees the same frames, so each names the same alert the same way, and an
acknowledgement made through one process applies in all of them (:meth:`AlertBook.apply_acks`).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from iconizer.types import ZoneState
from station import Zone

DEFAULT_HYSTERESIS_FRACTION = 0.1


@dataclass(frozen=True)
class Alert:
    """One alert about one zone.

    Attributes:
        alert_id: ``zone@raised_at`` (see :func:`alert_id`): the same in every web process.
        station_id: The station.
        zone_id: The zone.
        level: Highest public level (1-3) seen while the alert was active.
        density_per_m2: Density when the alert was raised or last worsened.
        raised_at: Frame time that raised it, unix seconds.
        cleared_at: Frame time it cleared, or ``None`` while active.
        acknowledged_by: The staff user who acknowledged it, or ``None``.
        acknowledged_at: When, unix seconds, or ``None``.
    """

    alert_id: str
    station_id: str
    zone_id: str
    level: int
    density_per_m2: float
    raised_at: float
    cleared_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None

    @property
    def active(self) -> bool:
        """True until the zone calms down past the hysteresis margin."""
        return self.cleared_at is None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the staff page."""
        return {
            "id": self.alert_id,
            "station": self.station_id,
            "zone": self.zone_id,
            "level": self.level,
            "density_per_m2": round(self.density_per_m2, 2),
            "raised_at": self.raised_at,
            "cleared_at": self.cleared_at,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "active": self.active,
        }


def alert_id(zone_id: str, raised_at: float) -> str:
    """The id of the alert a zone raised at frame time ``raised_at`` (milliseconds, as frames carry)."""
    return f"{zone_id}@{raised_at:.3f}"


class AlertBook:
    """Alerts of one station.

    Args:
        station_id: The station.
        zones: The station's zones (their thresholds give the bounds and the hysteresis).
        alert_level: Public level 1-3 that raises an alert.
        max_kept: Cleared alerts kept for display; the oldest go first.
    """

    def __init__(self, station_id: str, zones: Iterable[Zone], alert_level: int, *, max_kept: int = 200) -> None:
        if not 1 <= alert_level <= 3:
            raise ValueError(f"alert_level must be 1, 2 or 3, got {alert_level}")
        self.station_id = station_id
        self.alert_level = alert_level
        self._enter_per_m2: dict[str, float] = {}
        self._leave_per_m2: dict[str, float] = {}
        for zone in zones:
            enter = zone.public_bounds_per_m2[alert_level - 1]
            margin = zone.thresholds.hysteresis_per_m2
            if margin is None:
                margin = DEFAULT_HYSTERESIS_FRACTION * enter
            self._enter_per_m2[zone.id] = enter
            self._leave_per_m2[zone.id] = max(0.0, enter - margin)
        self._active: dict[str, Alert] = {}
        self._history: deque[Alert] = deque(maxlen=max_kept)

    def update(self, zones: Iterable[ZoneState], timestamp: float) -> list[Alert]:
        """Feed one frame's zone states.

        Stale zones change nothing: an unknown density neither raises nor clears an alert.

        Returns:
            The alerts raised, worsened or cleared by this frame.
        """
        changed = []
        for zone in zones:
            if zone.stale or zone.zone_id not in self._enter_per_m2:
                continue
            current = self._active.get(zone.zone_id)
            if current is None:
                if int(zone.level) >= self.alert_level:
                    alert = Alert(
                        alert_id(zone.zone_id, timestamp),
                        self.station_id,
                        zone.zone_id,
                        int(zone.level),
                        zone.density_per_m2,
                        timestamp,
                    )
                    self._active[zone.zone_id] = alert
                    changed.append(alert)
            elif zone.density_per_m2 < self._leave_per_m2[zone.zone_id] and int(zone.level) < self.alert_level:
                cleared = dataclasses.replace(current, cleared_at=timestamp)
                del self._active[zone.zone_id]
                self._history.append(cleared)
                changed.append(cleared)
            elif int(zone.level) > current.level:
                worse = dataclasses.replace(current, level=int(zone.level), density_per_m2=zone.density_per_m2)
                self._active[zone.zone_id] = worse
                changed.append(worse)
        return changed

    def acknowledge(self, alert_id: str, user: str, at: float) -> Alert:
        """Mark an alert acknowledged by ``user``.

        Raises:
            KeyError: if no alert has that id.
        """
        for zone_id, alert in self._active.items():
            if alert.alert_id == alert_id:
                acked = dataclasses.replace(alert, acknowledged_by=user, acknowledged_at=at)
                self._active[zone_id] = acked
                return acked
        for i, alert in enumerate(self._history):
            if alert.alert_id == alert_id:
                acked = dataclasses.replace(alert, acknowledged_by=user, acknowledged_at=at)
                self._history[i] = acked
                return acked
        raise KeyError(f"no alert {alert_id!r} in station {self.station_id!r}")

    def apply_acks(self, acks: Mapping[str, tuple[str, float]]) -> list[Alert]:
        """Take over acknowledgements made elsewhere: ``{alert_id: (user, at)}``.

        Ids this book does not hold (an alert raised before this process started) are ignored.

        Returns:
            The alerts that became acknowledged.
        """
        changed = []
        for alert in [*self._active.values(), *self._history]:
            ack = acks.get(alert.alert_id)
            if ack is not None and alert.acknowledged_by is None:
                changed.append(self.acknowledge(alert.alert_id, ack[0], ack[1]))
        return changed

    def alerts(self) -> list[Alert]:
        """Active alerts first (newest first), then cleared ones (newest first)."""

        def newest_first(alert: Alert) -> tuple[float, str]:
            return (-alert.raised_at, alert.zone_id)

        return sorted(self._active.values(), key=newest_first) + sorted(self._history, key=newest_first)
