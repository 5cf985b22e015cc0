"""Socket.IO namespaces, one per audience: ``/public`` (anyone), ``/staff`` and ``/operator`` (login).

A staff or operator socket is admitted with a valid session (:mod:`accounts.login`) and keeps
being checked: every ``RECHECK_S`` seconds each one's session is validated again, and a socket
whose session ended (logout in any process, account removed, password changed) is disconnected.
A logout through this process disconnects its sockets at once.

``connect`` and ``disconnect`` are events python-socketio raises itself; a client can also send
events of those names, which would reach the same handlers. Such forged events are ignored and
counted: only a real connection or disconnection moves the client gauge.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room, rooms

from accounts.login import EPOCH_KEY, TOKEN_KEY, Accounts
from webmap.backpressure import BoundedManager, Prepared
from webmap.hub import CROWDING_EVENT, Hub
from webmap.metrics import WebMetrics
from webmap.payload import ENCODINGS, encoded, floor_room, station_room

logger = logging.getLogger(__name__)
RECHECK_S = 2.0


class _Counted(Namespace):
    def __init__(self, namespace: str, hub: Hub, metrics: WebMetrics) -> None:
        super().__init__(namespace)
        self.hub = hub
        self.metrics = metrics

    def _forged(self, event: str) -> bool:
        # python-socketio raises connect while the client is still pending and disconnect once it
        # is marked as leaving; an event a client sent under those names arrives while it is connected.
        if self.socketio.server.manager.is_connected(request.sid, self.namespace):  # type: ignore[attr-defined]
            self.metrics.forged_events.labels(namespace=self.namespace, event=event).inc()
            logger.warning("ignored a client-sent %r event on %s", event, self.namespace)
            return True
        return False

    def on_disconnect(self, reason: Any = None) -> None:
        if self._forged("disconnect"):
            return
        self.metrics.clients.labels(namespace=self.namespace).dec()
        self.forget(request.sid)  # type: ignore[attr-defined]

    def forget(self, sid: str) -> None:
        """Drop what is kept about a client that left."""


class PublicNamespace(_Counted):
    """Anyone may connect; ``join`` with ``{"station": id}`` to receive ``crowding``.

    Optional keys: ``"floor": id`` for one floor only, ``"encoding": "compact"`` for packed dots
    (:mod:`webmap.payload`); the default ``"json"`` is the stable payload of the REST API.
    """

    def __init__(self, namespace: str, hub: Hub, metrics: WebMetrics) -> None:
        super().__init__(namespace, hub, metrics)
        # room -> (frame timestamp, the frame encoded for that room)
        self._prepared: dict[str, tuple[float, Prepared]] = {}

    def on_connect(self, auth: Any = None) -> None:
        """Count the client; anyone may watch the public map."""
        if self._forged("connect"):
            return
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
        latest = self.hub.latest(station_id)
        if latest is not None:
            self._send_latest(room, latest, encoding, floor_id)
        return {"ok": True, "room": room}

    def _send_latest(self, room: str, latest: dict[str, Any], encoding: str, floor_id: str | None) -> None:
        # Thousands of clients join within seconds (a ramp, a reconnect after a network blip), all
        # wanting the same frame: encode it once per room and frame, not once per client. The frame
        # passed the public schema when the hub read it (Hub.latest); its encodings derive from it.
        manager: BoundedManager = self.socketio.server.manager
        cached = self._prepared.get(room)
        if cached is None or cached[0] != latest["timestamp"]:
            data = encoded(latest, encoding, floor_id)
            cached = (latest["timestamp"], manager.prepare(CROWDING_EVENT, data, self.namespace))
            self._prepared[room] = cached
        # Flask-SocketIO adds ``sid`` to the request of a Socket.IO event; Flask's type does not know it.
        manager.send_prepared(cached[1], self.namespace, request.sid)  # type: ignore[attr-defined]

    def on_leave(self, data: Any = None) -> None:
        """Stop receiving frames."""
        for room in rooms():
            if room.startswith("station:"):
                leave_room(room)


class StaffNamespace(_Counted):
    """Logged-in staff only: live ``crowding``, ``alert`` and ``camera`` events of every station.

    Args:
        namespace: ``/staff``.
        hub: The web process's hub.
        metrics: Its metrics.
        accounts: The app's accounts, to validate each socket's session again and again.
    """

    role = "staff"

    def __init__(self, namespace: str, hub: Hub, metrics: WebMetrics, accounts: Accounts) -> None:
        super().__init__(namespace, hub, metrics)
        self.accounts = accounts
        # sid -> (user, session token, session epoch) of every admitted socket.
        self.admitted: dict[str, tuple[str, str, int]] = {}
        self._lock = threading.Lock()
        self._watching = threading.Event()  # set while the regular check runs
        accounts.session_ended.append(self.end_session)

    def on_connect(self, auth: Any = None) -> None:
        """Refuse anyone not logged in with the role; join every station's staff room."""
        if self._forged("connect"):
            return
        if not current_user.is_authenticated or not current_user.can(self.role):
            # Refused before anything is sent: an anonymous socket learns nothing. This must be
            # python-socketio's ConnectionRefusedError: the builtin one would reach the error handler.
            logger.info("refused an unauthenticated %s connection from %s", self.namespace, request.remote_addr)
            raise ConnectionRefusedError("login required")
        with self._lock:
            self.admitted[request.sid] = (current_user.name, session[TOKEN_KEY], session[EPOCH_KEY])  # type: ignore[attr-defined]
            start = not self._watching.is_set()
            self._watching.set()
        self.metrics.clients.labels(namespace=self.namespace).inc()
        for station_id in self.hub.stations:
            join_room(station_id)
        if start:
            self.socketio.start_background_task(self._watch)

    def forget(self, sid: str) -> None:
        """Stop checking a socket that left."""
        with self._lock:
            self.admitted.pop(sid, None)

    def _disconnect(self, sids: list[str], why: str) -> None:
        for sid in sids:
            # Its disconnect handler, run by this call, forgets it.
            logger.info("disconnected a %s socket: %s", self.namespace, why)
            self.socketio.server.disconnect(sid, namespace=self.namespace)

    def end_session(self, token: str) -> None:
        """Disconnect every socket of a session that ended by logout through this process."""
        with self._lock:
            sids = [sid for sid, (_, held, _) in self.admitted.items() if held == token]
        self._disconnect(sids, "its session ended")

    def recheck(self) -> int:
        """Validate every admitted socket's session again; disconnect those no longer valid.

        Returns:
            The number of sockets disconnected.
        """
        with self._lock:
            admitted = list(self.admitted.items())
        ended = [sid for sid, (name, token, epoch) in admitted if not self._still_valid(name, token, epoch)]
        self._disconnect(ended, "its session is no longer valid")
        return len(ended)

    def _still_valid(self, name: str, token: str, epoch: int) -> bool:
        try:
            return self.accounts.load(name, token, epoch) is not None
        except Exception as error:  # the accounts or sessions store unreadable: fail closed
            # The client reconnects by itself, and its connect is checked afresh.
            logger.warning("could not check a %s session (%s); disconnecting it", self.namespace, type(error).__name__)
            return False

    def _watch(self) -> None:
        # Runs while sockets are admitted; the next admitted socket starts it again.
        while True:
            self.socketio.sleep(RECHECK_S)
            self.recheck()  # never raises: a session that cannot be checked counts as ended
            with self._lock:
                if not self.admitted:
                    self._watching.clear()
                    return


class OperatorNamespace(StaffNamespace):
    """Logged-in operators only (the calibration tools live on the edge; this is their status channel)."""

    role = "operator"
