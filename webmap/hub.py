"""The web tier's inbox: validate each bus message, keep the latest frame, fan it out.

The runtime hands raw bus messages to :meth:`Hub.receive` (embedded bus) or runs
:meth:`Hub.pump` as a background task over a queue. Only ``icon_frames`` and ``camera_status``
messages are accepted; anything else, including floor positions, is dropped, logged and counted
(PRIVACY.md P1).

The hub does not trust the aggregator's coarsening either: before it publishes a frame it
coarsens every dot again to the station's own grid (``publishing.coarsen_m`` and
``coarsen_method``; :mod:`iconizer.coarsen`), which leaves an honest frame as it was and puts any
finer position back on the grid (PRIVACY.md P2, defence in depth). The latest frame read back from
the store is checked against the public schema before it is served, since a shared store is
another way in.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bus.codec import MessageError, StationFramesMessage, StatusMessage, decode_message
from iconizer.coarsen import coarsen_positions, jitter_key
from iconizer.types import CameraStatus, IconFrame
from station import StationLayout
from webmap.acks import AckStore, MemoryAckStore
from webmap.alert_store import AlertStore
from webmap.alerts import Alert, AlertBook
from webmap.metrics import WebMetrics
from webmap.payload import broadcast_targets, public_payload
from webmap.schemas import Crowding, check
from webmap.store import LatestFrameStore
from webmap.trend import RecentTrend

logger = logging.getLogger(__name__)

PUBLIC_NAMESPACE = "/public"
STAFF_NAMESPACE = "/staff"
OPERATOR_NAMESPACE = "/operator"
CROWDING_EVENT = "crowding"


class Emitter(Protocol):
    """Where the hub sends events: ``emit(event, data, namespace, to)``.

    A ``socketio.Server`` is one (its ``emit`` has this signature).
    """

    def emit(self, event: str, data: Any, namespace: str | None = None, to: str | None = None) -> None:
        """Send ``event`` to room ``to`` (everyone in the namespace when ``None``)."""


@dataclass
class StationState:
    """What the web tier keeps about one station besides the latest frame."""

    layout: StationLayout
    alerts: AlertBook
    trend: RecentTrend
    cameras: dict[str, CameraStatus]
    received_at: float | None = None


def camera_to_dict(status: CameraStatus, now_s: float) -> dict[str, Any]:
    """Camera health for the staff page: numbers, and an error code with its fixed text (no image, no free text)."""
    age = status.last_frame_age_s
    return {
        "camera": status.camera_id,
        "state": status.state,
        "fps": round(status.fps, 1),
        "last_frame_age_s": round(age, 1) if math.isfinite(age) else None,
        "status_age_s": round(max(0.0, now_s - status.timestamp_s), 1),
        "error": status.error,
        "error_text": status.error_text,
    }


class Hub:
    """Receives bus messages for the stations this web process serves.

    Args:
        layouts: The stations served.
        store: Latest public payload per station.
        emitter: Sends events to Socket.IO rooms (normally the app's ``socketio.Server``).
        metrics: Counters for accepted and rejected messages.
        alert_level: Public level (1-3) that raises a staff alert.
        clock: Wall clock, unix seconds (tests pass a fixed one).
        acks: Alert acknowledgements shared with the other web processes; in memory by default.
        jitter_secret: Secret of the jitter key for stations coarsened by ``jitter``; the same in
            every web process (the app derives it from its secret key), random by default.
        alert_store: Where alerts are kept across restarts; the books start from what it holds.
        camera_zones: Station id -> camera id -> the zones it covers (from the station checks).
    """

    def __init__(
        self,
        layouts: Iterable[StationLayout],
        store: LatestFrameStore,
        emitter: Emitter | None,
        metrics: WebMetrics,
        *,
        alert_level: int = 2,
        clock: Callable[[], float] = time.time,
        acks: AckStore | None = None,
        jitter_secret: bytes | None = None,
        alert_store: AlertStore | None = None,
        camera_zones: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    ) -> None:
        self.acks: AckStore = MemoryAckStore() if acks is None else acks
        self.alert_store = alert_store
        self.jitter_secret = secrets.token_bytes(32) if jitter_secret is None else jitter_secret
        self.stations: dict[str, StationState] = {}
        for layout in layouts:
            sid = layout.station.id
            if sid in self.stations:
                raise ValueError(f"station {sid!r} given twice")
            book = AlertBook(
                sid,
                layout.zones,
                alert_level,
                cameras=layout.cameras,
                camera_zones=(camera_zones or {}).get(sid),
            )
            if alert_store is not None:
                book.restore(alert_store.recent(sid))
                book.apply_acks(self.acks.get(sid))
            self.stations[sid] = StationState(layout=layout, alerts=book, trend=RecentTrend(), cameras={})
        self.store = store
        self.emitter = emitter
        self.metrics = metrics
        self.clock = clock
        self._lock = threading.Lock()

    # ---- receiving ----------------------------------------------------------------------

    def _reject(self, reason: str, detail: str) -> bool:
        self.metrics.messages_rejected.labels(reason=reason).inc()
        # The detail is the decoder's message: it names fields, never echoes a payload.
        logger.warning("dropped a bus message (%s): %s", reason, detail[:200])
        return False

    def receive(self, raw: bytes | str) -> bool:
        """Validate one raw bus message and act on it.

        Returns:
            True if the message was accepted, False if it was dropped (and counted).
        """
        try:
            message = decode_message(raw)
        except MessageError as error:
            return self._reject("invalid", str(error))
        if isinstance(message, StationFramesMessage):
            return self.receive_frames(message.station_id, message.timestamp_s, message.frames)
        if isinstance(message, StatusMessage):
            return self.receive_status(message.station_id, message.status)
        # Positions (or any future type) never belong in the publishing tier.
        return self._reject("wrong-type", f"{type(message).__name__} is not accepted by the web tier")

    def receive_frames(self, station_id: str, timestamp_s: float, frames: Iterable[IconFrame]) -> bool:
        """Publish one station frame (all floors) that was already validated."""
        state = self.stations.get(station_id)
        if state is None:
            return self._reject("unknown-station", f"station {station_id!r} is not served here")
        frames = tuple(frames)
        floors = {floor.id for floor in state.layout.floors}
        zones = {zone.id: zone.floor for zone in state.layout.zones}
        if len({frame.floor_id for frame in frames}) != len(frames):
            return self._reject("duplicate-floor", f"a floor appears twice in one frame of {station_id!r}")
        for frame in frames:
            if frame.floor_id not in floors:
                return self._reject("unknown-floor", f"floor {frame.floor_id!r} is not in station {station_id!r}")
            for zone in frame.zones:
                if zones.get(zone.zone_id) != frame.floor_id:
                    return self._reject(
                        "unknown-zone", f"zone {zone.zone_id!r} is not on floor {frame.floor_id!r} of {station_id!r}"
                    )
        payload = public_payload(station_id, timestamp_s, self._coarsened(state.layout, timestamp_s, frames))
        with self.metrics.broadcast_seconds.time():
            with self._lock:
                self.store.put(station_id, payload)
                state.received_at = self.clock()
                changed: list[Alert] = []
                for frame in frames:
                    changed += state.alerts.update(frame.zones, timestamp_s)
                    state.trend.update(frame.zones, timestamp_s)
                if changed:
                    # A worsened or cleared alert keeps an acknowledgement made through another process.
                    taken = {alert.alert_id: alert for alert in state.alerts.apply_acks(self.acks.get(station_id))}
                    changed = [taken.get(alert.alert_id, alert) for alert in changed]
                    self._keep(changed)
            if self.emitter is not None:
                for room, data in broadcast_targets(payload):
                    self.emitter.emit(CROWDING_EVENT, data, namespace=PUBLIC_NAMESPACE, to=room)
                self.emitter.emit(CROWDING_EVENT, payload, namespace=STAFF_NAMESPACE, to=station_id)
                for alert in changed:
                    self.emitter.emit("alert", alert.to_dict(), namespace=STAFF_NAMESPACE, to=station_id)
        self.metrics.messages_received.labels(type="icon_frames").inc()
        return True

    def _coarsened(self, layout: StationLayout, timestamp_s: float, frames: tuple[IconFrame, ...]) -> list[IconFrame]:
        publishing = layout.publishing
        key = jitter_key(self.jitter_secret, timestamp_s)
        out = []
        for frame in frames:
            dots_m = coarsen_positions(
                frame.dots_m,
                cell_m=publishing.coarsen_m,
                method=publishing.coarsen_method,
                key=key,
                size_m=layout.floor(frame.floor_id).size_m,
            )
            out.append(dataclasses.replace(frame, dots_m=dots_m))
        return out

    def latest(self, station_id: str) -> dict[str, Any] | None:
        """The station's latest public payload, or ``None`` before the first (or when it fails the schema).

        The store may be shared (Redis): what it returns is checked like anything else that
        reaches the public.
        """
        payload = self.store.get(station_id)
        if payload is None:
            return None
        problem = check(Crowding, payload)
        if problem is None and payload.get("station") == station_id:
            return payload
        self._reject("latest-invalid", f"the stored latest frame of {station_id!r} fails the public schema: {problem}")
        return None

    def receive_status(self, station_id: str, status: CameraStatus) -> bool:
        """Record one camera's health report."""
        state = self.stations.get(station_id)
        if state is None:
            return self._reject("unknown-station", f"station {station_id!r} is not served here")
        if status.camera_id not in {camera.id for camera in state.layout.cameras}:
            return self._reject("unknown-camera", f"camera {status.camera_id!r} is not in station {station_id!r}")
        with self._lock:
            state.cameras[status.camera_id] = status
            alert = state.alerts.update_camera(status)
            if alert is not None:
                taken = {a.alert_id: a for a in state.alerts.apply_acks(self.acks.get(station_id))}
                alert = taken.get(alert.alert_id, alert)
                self._keep([alert])
        self.metrics.camera_live.labels(station=station_id, camera=status.camera_id).set(1 if status.is_live else 0)
        if self.emitter is not None:
            data = {**camera_to_dict(status, self.clock()), "station": station_id}
            self.emitter.emit("camera", data, namespace=STAFF_NAMESPACE, to=station_id)
            if alert is not None:
                self.emitter.emit("alert", alert.to_dict(), namespace=STAFF_NAMESPACE, to=station_id)
        self.metrics.messages_received.labels(type="camera_status").inc()
        return True

    def _keep(self, alerts: Iterable[Alert]) -> None:
        """Write changed alerts to the alert store; a store that fails loses nothing of the live view."""
        if self.alert_store is None:
            return
        for alert in alerts:
            try:
                self.alert_store.put(alert)
            except Exception:  # a broken store must never stop the frames
                logger.exception("could not store alert %s; it stays in memory", alert.alert_id)

    def pump(
        self,
        inbox: queue.Queue,
        stop: threading.Event,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_s: float = 0.05,
    ) -> None:
        """Receive from ``inbox`` until ``stop`` is set: the runtime's background task.

        The queue is polled without blocking and the wait goes through ``sleep`` (pass
        ``socketio.sleep``), so under gevent other greenlets run while the inbox is empty even
        if the queue is a multiprocessing one that gevent cannot patch.
        """
        while not stop.is_set():
            try:
                raw = inbox.get_nowait()
            except queue.Empty:
                sleep(poll_s)
                continue
            try:
                self.receive(raw)
            except Exception:  # one bad message must never stop the web tier
                logger.exception("unexpected error while handling a bus message; dropped")
                self.metrics.messages_rejected.labels(reason="error").inc()

    # ---- reading ------------------------------------------------------------------------

    def camera_health(self, station_id: str) -> list[dict[str, Any]]:
        """Every camera of the station with its last status (``unknown`` before the first)."""
        state = self.stations[station_id]
        now_s = self.clock()
        out = []
        with self._lock:
            for camera in state.layout.cameras:
                status = state.cameras.get(camera.id)
                if status is None:
                    out.append(
                        {
                            "camera": camera.id,
                            "state": "unknown",
                            "fps": None,
                            "last_frame_age_s": None,
                            "status_age_s": None,
                            "error": "",
                            "error_text": {"en": "", "ja": ""},
                        }
                    )
                else:
                    out.append(camera_to_dict(status, now_s))
        return out

    def alerts(self, station_id: str) -> list[dict[str, Any]]:
        """The station's alerts, active first, with acknowledgements made through any web process."""
        acks = self.acks.get(station_id)
        with self._lock:
            book = self.stations[station_id].alerts
            book.apply_acks(acks)
            return [alert.to_dict() for alert in book.alerts()]

    def acknowledge(self, station_id: str, alert_id: str, user: str) -> dict[str, Any]:
        """Acknowledge an alert, share the acknowledgement and tell every staff client.

        Raises:
            KeyError: for an unknown station or alert.
        """
        now_s = self.clock()
        with self._lock:
            acked = self.stations[station_id].alerts.acknowledge(alert_id, user, now_s)
            self._keep([acked])
            alert = acked.to_dict()
        self.acks.put(station_id, alert_id, user, now_s)
        if self.emitter is not None:
            self.emitter.emit("alert", alert, namespace=STAFF_NAMESPACE, to=station_id)
        return alert

    def trend(self, station_id: str, zone_id: str) -> list[dict[str, Any]]:
        """The zone's per-minute aggregates over the last hour, oldest first."""
        with self._lock:
            return [m.to_dict() for m in self.stations[station_id].trend.series(zone_id)]
