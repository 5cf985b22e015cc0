"""Socket.IO client managers that drop frames for slow clients instead of queueing without limit.

python-socketio queues every packet for every client in an unbounded queue; a phone on a bad
link would make the server's memory grow by one frame a second forever. These managers skip a
broadcast for any client that still has ``max_backlog`` packets waiting. A client that only
fell behind gets the next frame once it catches up: the map shows the latest state, never a
backlog of old ones.

Under gevent-websocket a broadcast is framed once and written straight to each socket
(:mod:`webmap.direct_send`); there a slow client is one whose socket buffer is full, and its
frame is dropped the same way.

``BoundedRedisManager`` puts the same rule under Flask-SocketIO's Redis message queue: its
method resolution order is RedisManager -> PubSubManager -> BoundedManager -> RoomIndex -> Manager, so
frames published by any process are fanned out locally through ``BoundedManager.emit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from webmap import direct_send
from webmap.room_index import RoomIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """One event encoded once: its Engine.IO packets and, for direct writes, its WebSocket frame."""

    eio_packets: list[eio_packet.Packet]
    frame: bytes | None


class BoundedManager(RoomIndex):
    """An in-memory manager whose broadcasts skip clients that do not keep up (full socket buffer or queue).

    Args:
        max_backlog: Packets that may wait for one client before broadcasts skip it.
        on_drop: Called once per skipped client (a metrics counter).
        direct_writes: Write broadcasts straight to gevent-websocket sockets (see
            :mod:`webmap.direct_send`); off, every packet takes python-socketio's queue.
        send_buffer_bytes: Socket send buffer of a directly written connection.
    """

    def __init__(
        self,
        *args: Any,
        max_backlog: int = 4,
        on_drop: Callable[[], None] | None = None,
        direct_writes: bool = True,
        send_buffer_bytes: int = direct_send.DEFAULT_SEND_BUFFER_BYTES,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._configure(max_backlog, on_drop, direct_writes, send_buffer_bytes)

    def _configure(
        self, max_backlog: int, on_drop: Callable[[], None] | None, direct_writes: bool, send_buffer_bytes: int
    ) -> None:
        if max_backlog < 1:
            raise ValueError(f"max_backlog must be >= 1, got {max_backlog}")
        self.max_backlog = max_backlog
        self.on_drop = on_drop
        self.direct_writes = direct_writes
        self.send_buffer_bytes = send_buffer_bytes

    def pre_connect(self, eio_sid, namespace):
        # The first namespace a client connects to comes straight after the Engine.IO handshake,
        # when nothing but the handshake has been written: the moment to guard its writes.
        result = super().pre_connect(eio_sid, namespace)
        if self.direct_writes:
            environ = self.server.environ.get(eio_sid)
            if environ is not None:
                direct_send.attach(environ, send_buffer_bytes=self.send_buffer_bytes)
        return result

    def _direct(self, eio_sid: str) -> direct_send.DirectSocket | None:
        environ = self.server.environ.get(eio_sid)
        return None if environ is None else environ.get(direct_send.ENVIRON_KEY)

    def _dropped(self) -> None:
        if self.on_drop is not None:
            self.on_drop()

    def _backlog(self, eio_sid: str) -> int:
        socket = self.server.eio.sockets.get(eio_sid)
        return 0 if socket is None else socket.queue.qsize()

    def _has_participants(self, namespace: str, room: Any) -> bool:
        # python-socketio deletes a room with its last member, so a room present is a room in use.
        rooms = self.rooms.get(namespace, {})
        wanted = room if hasattr(room, "__len__") and not isinstance(room, str) else [room]
        return any(r in rooms for r in wanted)

    def prepare(self, event: str, data: Any, namespace: str) -> Prepared:
        """Encode one event once, for any number of :meth:`send_prepared` calls."""
        args = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        eio_packets = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in parts]
        # One WebSocket frame for directly written clients; binary packets (several frames) never go direct.
        frame = None
        if self.direct_writes and len(eio_packets) == 1 and isinstance(parts[0], str):
            frame = direct_send.text_frame(eio_packets[0].encode().encode("utf-8"))
        return Prepared(eio_packets, frame)

    def send_prepared(self, prepared: Prepared, namespace: str, room: Any, skip_sid: Any = None) -> None:
        """Send a prepared event to a room (or one client's own room).

        A client whose socket buffer or queue is full is skipped and counted as a drop.
        """
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            direct = None if prepared.frame is None else self._direct(eio_sid)
            if direct is not None and prepared.frame is not None:
                outcome = direct.try_send(prepared.frame)
                if outcome is direct_send.Outcome.FULL:
                    self._dropped()
                if outcome is not direct_send.Outcome.QUEUE:
                    continue
            if self._backlog(eio_sid) >= self.max_backlog:
                self._dropped()
                continue
            for pkt in prepared.eio_packets:
                self.server._send_eio_packet(eio_sid, pkt)

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback or namespace not in self.rooms:
            # Acknowledged messages are one-to-one replies: never drop those.
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        if not self._has_participants(namespace, room):
            return None  # nobody in the room: do not even encode
        self.send_prepared(self.prepare(event, data, namespace), namespace, room, skip_sid)
        return None


class BoundedRedisManager(socketio.RedisManager, BoundedManager):
    """Flask-SocketIO's Redis message queue with :class:`BoundedManager`'s local fan-out."""

    def __init__(
        self,
        url: str,
        *,
        max_backlog: int = 4,
        on_drop: Callable[[], None] | None = None,
        direct_writes: bool = True,
        send_buffer_bytes: int = direct_send.DEFAULT_SEND_BUFFER_BYTES,
        **kwargs: Any,
    ):
        socketio.RedisManager.__init__(self, url, **kwargs)
        self._configure(max_backlog, on_drop, direct_writes, send_buffer_bytes)
