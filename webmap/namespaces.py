"""Socket.IO namespaces, one per audience: ``/public`` (anyone), ``/staff`` and ``/operator`` (login)."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room, rooms

from webmap.backpressure import BoundedManager, Prepared
from webmap.hub import CROWDING_EVENT, Hub
from webmap.metrics import WebMetrics
from webmap.payload import ENCODINGS, encoded, floor_room, station_room

logger = logging.getLogger(__name__)


class _Counted(Namespace):
    def __init__(self, namespace: str, hub: Hub, metrics: WebMetrics) -> None:
        super().__init__(namespace)
        self.hub = hub
        self.metrics = metrics

    def on_disconnect(self, reason: Any = None) -> None:
        self.metrics.clients.labels(namespace=self.namespace).dec()


class PublicNamespace(_Counted):
    """Anyone may connect; ``join`` with ``{"station": id}`` to receive ``crowding``.

    Optional keys: ``"floor": id`` for one floor only, ``"encoding": "compact"`` for packed dots
    (:mod:`webmap.payload`); the default ``"json"`` is the stable payload of the REST API.
    """

    def __init__(self, namespace: str, hub: Hub, metrics: WebMetrics) -> None:
        super().__init__(namespace, hub, metrics)
        self._prepared: dict[str, tuple[float, Prepared]] = {}  # room -> (frame timestamp, encoded frame)

    def on_connect(self, auth: Any = None) -> None:
        """Count the client; anyone may watch the public map."""
        self.metrics.clients.labels(namespace=self.namespace).inc()

    def on_join(self, data: Any) -> dict[str, Any]:
        """Enter one station's room (leaving any other) and get its latest frame at once.

        Returns:
            The acknowledgement ``{"ok": true, "room": ...}`` or ``{"ok": false, "error": ...}``.
        """
        if not isinstance(data, dict) or set(data) - {"station", "floor", "encoding"}:
            return {"ok": False, "error": 'expected {"station": id}, optionally with "floor": id and "encoding"'}
        station_id, floor_id, encoding = data.get("station"), data.get("floor"), data.get("encoding", "json")
        if not isinstance(station_id, str) or station_id not in self.hub.stations:
            return {"ok": False, "error": f"unknown station; stations are {sorted(self.hub.stations)}"}
        layout = self.hub.stations[station_id].layout
        if floor_id is not None and (not isinstance(floor_id, str) or floor_id not in {f.id for f in layout.floors}):
            return {"ok": False, "error": f"unknown floor; floors are {[f.id for f in layout.floors]}"}
        if encoding not in ENCODINGS:
            return {"ok": False, "error": f"unknown encoding; encodings are {list(ENCODINGS)}"}
        for room in rooms():
            if room.startswith("station:"):
                leave_room(room)
        if floor_id is None:
            room = station_room(station_id, encoding)
        else:
            room = floor_room(station_id, floor_id, encoding)
        join_room(room)
        latest = self.hub.store.get(station_id)
        if latest is not None:
            self._send_latest(room, latest, encoding, floor_id)
        return {"ok": True, "room": room}

    def _send_latest(self, room: str, latest: dict[str, Any], encoding: str, floor_id: str | None) -> None:
        # Thousands of clients join within seconds (a ramp, a reconnect after a network blip), all
        # wanting the same frame: encode it once per room and frame, not once per client.
        manager: BoundedManager = self.socketio.server.manager  # create_app always installs one
        cached = self._prepared.get(room)
        if cached is None or cached[0] != latest["timestamp"]:
            cached = (
                latest["timestamp"],
                manager.prepare(CROWDING_EVENT, encoded(latest, encoding, floor_id), self.namespace),
            )
            self._prepared[room] = cached
        # Flask-SocketIO adds ``sid`` to the request of a Socket.IO event; Flask's type does not know it.
        manager.send_prepared(cached[1], self.namespace, request.sid)  # type: ignore[attr-defined]

    def on_leave(self, data: Any = None) -> None:
        """Stop receiving frames."""
        for room in rooms():
            if room.startswith("station:"):
                leave_room(room)


class StaffNamespace(_Counted):
    """Logged-in staff only: live ``crowding``, ``alert`` and ``camera`` events of every station."""

    role = "staff"

    def on_connect(self, auth: Any = None) -> None:
        """Refuse anyone not logged in with the role; join every station's staff room."""
        if not current_user.is_authenticated or not current_user.can(self.role):
            # Refused before anything is sent: an anonymous socket learns nothing. This must be
            # python-socketio's ConnectionRefusedError: the builtin one would reach the error handler.
            logger.info("refused an unauthenticated %s connection from %s", self.namespace, request.remote_addr)
            raise ConnectionRefusedError("login required")
        self.metrics.clients.labels(namespace=self.namespace).inc()
        for station_id in self.hub.stations:
            join_room(station_id)


class OperatorNamespace(StaffNamespace):
    """Logged-in operators only (the calibration tools live on the edge; this is their status channel)."""

    role = "operator"
