"""Staff alerts: a zone entering a configured crowding level, and a camera that stops reporting.

Pure state machine over zone states and camera states; no clock (timestamps come with the
frames and the camera reports) and no I/O.

- A *zone alert* is raised when a live zone's public level reaches ``alert_level``. It clears
  only when the zone's density falls below the level's lower bound minus a hysteresis margin, so
  a zone hovering at the boundary raises one alert, not one per frame. It records the zone's
  floor and the peak density and level while it lasted.
- A *camera alert* is raised when a camera reports ``dead`` or ``stalled`` (the aggregator
  reports an edge that went silent as ``dead``), and clears when it reports ``live`` again. It
  names the zones the camera covers: those zones read "no data" until it is back.

An alert's id is its subject and the time of the frame or report that raised it: every web
process of a scaled-out deployment sees the same frames and reports, so each names the same
alert the same way, and an acknowledgement made through one process applies in all of them
(:meth:`AlertBook.apply_acks`). A book can be restored from stored alerts after a restart
(:meth:`AlertBook.restore`).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iconizer.types import CameraStatus, ZoneState
from station import Camera, Zone

DEFAULT_HYSTERESIS_FRACTION = 0.1
# A peak this much above the last one sent (and 10 % above it) is sent again; smaller rises are
# kept silently, so a surge does not send an alert update every frame.
PEAK_STEP_PER_M2 = 0.1
CAMERA_DOWN_STATES = ("dead", "stalled")
ZONE, CAMERA = "zone", "camera"


@dataclass(frozen=True)
class Alert:
    """One alert about one zone or one camera.

    Attributes:
        alert_id: ``zone@raised_at`` or ``camera:id@raised_at`` (see :func:`alert_id`): the
            same in every web process.
        station_id: The station.
        zone_id: The zone (zone alerts), or ``""``.
        level: Highest public level (1-3) seen while a zone alert was active; 0 for a camera.
        density_per_m2: Density when the alert was raised or last worsened.
        raised_at: Frame or report time that raised it, unix seconds.
        cleared_at: Time it cleared, or ``None`` while active.
        acknowledged_by: The staff user who acknowledged it, or ``None``.
        acknowledged_at: When, unix seconds, or ``None``.
        kind: ``zone`` or ``camera``.
        floor_id: The floor of the zone or camera.
        peak_density_per_m2: Highest density while the alert was active (zone alerts).
        camera_id: The camera (camera alerts), or ``""``.
        camera_state: The state that raised a camera alert (``dead``, ``stalled``), or ``""``.
        zones: The zones affected: the zone itself, or the zones the camera covers.
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
    kind: str = ZONE
    floor_id: str = ""
    peak_density_per_m2: float = 0.0
    camera_id: str = ""
    camera_state: str = ""
    zones: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True until the zone calms down past the hysteresis margin, or the camera is back."""
        return self.cleared_at is None

    @property
    def subject(self) -> str:
        """What the alert is about: the zone id, or ``camera:<id>`` (zone and camera ids may coincide)."""
        return self.zone_id if self.kind == ZONE else f"camera:{self.camera_id}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the staff page and the alert store."""
        return {
            "id": self.alert_id,
            "station": self.station_id,
            "kind": self.kind,
            "zone": self.zone_id,
            "camera": self.camera_id,
            "floor": self.floor_id,
            "zones": list(self.zones),
            "level": self.level,
            "density_per_m2": round(self.density_per_m2, 2),
            "peak_density_per_m2": round(self.peak_density_per_m2, 2),
            "camera_state": self.camera_state,
            "raised_at": self.raised_at,
            "cleared_at": self.cleared_at,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "active": self.active,
        }


def alert_from_dict(data: Mapping[str, Any]) -> Alert:
    """The inverse of :meth:`Alert.to_dict` (for alerts read back from a store).

    Raises:
        ValueError: for a malformed record (missing key, wrong type, unknown kind).
    """
    try:
        kind = str(data.get("kind", ZONE))
        if kind not in (ZONE, CAMERA):
            raise ValueError(f"malformed alert record: kind must be {ZONE!r} or {CAMERA!r}, got {kind!r}")
        cleared = data.get("cleared_at")
        acked_at = data.get("acknowledged_at")
        acked_by = data.get("acknowledged_by")
        return Alert(
            alert_id=str(data["id"]),
            station_id=str(data["station"]),
            zone_id=str(data.get("zone") or ""),
            level=int(data.get("level", 0)),
            density_per_m2=float(data.get("density_per_m2", 0.0)),
            raised_at=float(data["raised_at"]),
            cleared_at=None if cleared is None else float(cleared),
            acknowledged_by=None if acked_by is None else str(acked_by),
            acknowledged_at=None if acked_at is None else float(acked_at),
            kind=kind,
            floor_id=str(data.get("floor") or ""),
            peak_density_per_m2=float(data.get("peak_density_per_m2", 0.0)),
            camera_id=str(data.get("camera") or ""),
            camera_state=str(data.get("camera_state") or ""),
            zones=tuple(str(z) for z in data.get("zones") or ()),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed alert record: {error!r}") from None


def alert_id(subject: str, raised_at: float) -> str:
    """The id of the alert ``subject`` raised at frame time ``raised_at`` (milliseconds, as frames carry)."""
    return f"{subject}@{raised_at:.3f}"


class AlertBook:
    """Alerts of one station.

    Args:
        station_id: The station.
        zones: The station's zones (their thresholds give the bounds and the hysteresis).
        alert_level: Public level 1-3 that raises a zone alert.
        cameras: The station's cameras (their floors); no camera alerts for others.
        camera_zones: Zones each camera covers (from a station check); a camera missing here
            is taken to cover the zones of its floor that turn stale while it is down.
        max_kept: Cleared alerts kept for display; the oldest go first.
    """

    def __init__(
        self,
        station_id: str,
        zones: Iterable[Zone],
        alert_level: int,
        *,
        cameras: Iterable[Camera] = (),
        camera_zones: Mapping[str, Sequence[str]] | None = None,
        max_kept: int = 200,
    ) -> None:
        if not 1 <= alert_level <= 3:
            raise ValueError(f"alert_level must be 1, 2 or 3, got {alert_level}")
        self.station_id = station_id
        self.alert_level = alert_level
        self._enter_per_m2: dict[str, float] = {}
        self._leave_per_m2: dict[str, float] = {}
        self._zone_floor: dict[str, str] = {}
        for zone in zones:
            enter = zone.public_bounds_per_m2[alert_level - 1]
            margin = zone.thresholds.hysteresis_per_m2
            if margin is None:
                margin = DEFAULT_HYSTERESIS_FRACTION * enter
            self._enter_per_m2[zone.id] = enter
            self._leave_per_m2[zone.id] = max(0.0, enter - margin)
            self._zone_floor[zone.id] = zone.floor
        self._camera_floor = {camera.id: camera.floor for camera in cameras}
        self._camera_zones = {k: tuple(v) for k, v in (camera_zones or {}).items()}
        # Subject (zone id or "camera:<id>") -> its active alert; peak sent last, per subject.
        self._active: dict[str, Alert] = {}
        self._sent_peak: dict[str, float] = {}
        self._history: deque[Alert] = deque(maxlen=max_kept)

    # ---- zones ----------------------------------------------------------------------------

    def update(self, zones: Iterable[ZoneState], timestamp_s: float) -> list[Alert]:
        """Feed one frame's zone states.

        Stale zones change no zone alert (an unknown density neither raises nor clears one); they
        join the affected zones of a camera alert on their floor whose camera has no known coverage.

        Returns:
            The alerts raised, worsened, cleared, or updated by this frame.
        """
        changed = []
        stale_by_floor: dict[str, set[str]] = {}
        for zone in zones:
            if zone.zone_id not in self._enter_per_m2:
                continue
            if zone.stale:
                stale_by_floor.setdefault(self._zone_floor[zone.zone_id], set()).add(zone.zone_id)
                continue
            alert = self._update_zone(zone, timestamp_s)
            if alert is not None:
                changed.append(alert)
        for subject, alert in list(self._active.items()):
            if alert.kind != CAMERA or alert.camera_id in self._camera_zones:
                continue
            more = stale_by_floor.get(alert.floor_id, set()) - set(alert.zones)
            if more:
                self._active[subject] = dataclasses.replace(alert, zones=tuple(sorted({*alert.zones, *more})))
                changed.append(self._active[subject])
        return changed

    def _update_zone(self, zone: ZoneState, timestamp_s: float) -> Alert | None:
        current = self._active.get(zone.zone_id)
        density = float(zone.density_per_m2)
        if current is None:
            if int(zone.level) < self.alert_level:
                return None
            alert = Alert(
                alert_id(zone.zone_id, timestamp_s),
                self.station_id,
                zone.zone_id,
                int(zone.level),
                density,
                timestamp_s,
                floor_id=self._zone_floor[zone.zone_id],
                peak_density_per_m2=density,
                zones=(zone.zone_id,),
            )
            self._active[zone.zone_id] = alert
            self._sent_peak[zone.zone_id] = density
            return alert
        if density < self._leave_per_m2[zone.zone_id] and int(zone.level) < self.alert_level:
            cleared = dataclasses.replace(current, cleared_at=timestamp_s)
            self._close(zone.zone_id, cleared)
            return cleared
        peak = max(current.peak_density_per_m2, density)
        if int(zone.level) > current.level:
            worse = dataclasses.replace(
                current, level=int(zone.level), density_per_m2=density, peak_density_per_m2=peak
            )
            self._active[zone.zone_id] = worse
            self._sent_peak[zone.zone_id] = peak
            return worse
        if peak > current.peak_density_per_m2:
            current = dataclasses.replace(current, peak_density_per_m2=peak)
            self._active[zone.zone_id] = current
            sent = self._sent_peak.get(zone.zone_id, 0.0)
            if peak >= sent + PEAK_STEP_PER_M2 and peak >= 1.1 * sent:
                self._sent_peak[zone.zone_id] = peak
                return current
        return None

    def _close(self, subject: str, cleared: Alert) -> None:
        del self._active[subject]
        self._sent_peak.pop(subject, None)
        self._history.append(cleared)

    # ---- cameras --------------------------------------------------------------------------

    def update_camera(self, status: CameraStatus) -> Alert | None:
        """Feed one camera report.

        Returns:
            The alert raised or cleared by it, if any.
        """
        floor = self._camera_floor.get(status.camera_id)
        if floor is None:
            return None
        subject = f"camera:{status.camera_id}"
        current = self._active.get(subject)
        if current is None and status.state in CAMERA_DOWN_STATES:
            alert = Alert(
                alert_id(subject, status.timestamp_s),
                self.station_id,
                "",
                0,
                0.0,
                status.timestamp_s,
                kind=CAMERA,
                floor_id=floor,
                camera_id=status.camera_id,
                camera_state=status.state,
                zones=self._camera_zones.get(status.camera_id, ()),
            )
            self._active[subject] = alert
            return alert
        if current is not None and status.state == "live":
            cleared = dataclasses.replace(current, cleared_at=max(status.timestamp_s, current.raised_at))
            self._close(subject, cleared)
            return cleared
        return None

    # ---- acknowledgements, restore, listing -------------------------------------------------

    def acknowledge(self, alert_id: str, user: str, at_s: float) -> Alert:
        """Mark an alert acknowledged by ``user``.

        Raises:
            KeyError: if no alert has that id.
        """
        for subject, alert in self._active.items():
            if alert.alert_id == alert_id:
                acked = dataclasses.replace(alert, acknowledged_by=user, acknowledged_at=at_s)
                self._active[subject] = acked
                return acked
        for i, alert in enumerate(self._history):
            if alert.alert_id == alert_id:
                acked = dataclasses.replace(alert, acknowledged_by=user, acknowledged_at=at_s)
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

    def restore(self, alerts: Iterable[Alert]) -> None:
        """Take back alerts stored before a restart: active ones go on, cleared ones are history.

        Alerts of other stations, of subjects this book does not know, and ids it already holds
        are ignored; of two active alerts of one subject, the newer wins (the older is history).
        """
        held = {a.alert_id for a in [*self._active.values(), *self._history]}
        for alert in sorted(alerts, key=lambda a: a.raised_at):
            if alert.station_id != self.station_id or alert.alert_id in held:
                continue
            known = alert.zone_id in self._enter_per_m2 if alert.kind == ZONE else alert.camera_id in self._camera_floor
            if not known:
                continue
            held.add(alert.alert_id)
            if alert.active:
                older = self._active.get(alert.subject)
                if older is not None:
                    self._history.append(older)
                self._active[alert.subject] = alert
                self._sent_peak[alert.subject] = alert.peak_density_per_m2
            else:
                self._history.append(alert)

    def alerts(self) -> list[Alert]:
        """Active alerts first (newest first), then cleared ones (newest first)."""

        def newest_first(alert: Alert) -> tuple[float, str]:
            return (-alert.raised_at, alert.subject)

        return sorted(self._active.values(), key=newest_first) + sorted(self._history, key=newest_first)
