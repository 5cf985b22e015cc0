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
frames published by any process are fanned out locally through ``BoundedManager.emit``. That is
also where every emit meets the ``guard`` (:class:`webmap.emit_guard.EmitGuard`): whatever its
source, nothing leaves that the guard refuses.

Reading a client's backlog and writing to its socket need private parts of python-engineio and
gevent-websocket, all in :mod:`webmap.internals`; where those do not hold, every packet takes
Engine.IO's public ``send_packet`` and no client is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from webmap import direct_send, internals
from webmap.room_index import RoomIndex

# ``guard(event, data, namespace, room, callback) -> bool``: whether an emit may go out.
Guard = Callable[[Any, Any, Any, Any, Any], bool]

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
        guard: Decides whether each emit may go out; everything goes out without one.
        private: Use the private library parts of :mod:`webmap.internals` (direct writes, backlog
            bounds); off, every packet takes Engine.IO's public ``send_packet`` and no client is
            skipped. Always off when their contracts do not hold.
    """

    def __init__(
        self,
        *args: Any,
        max_backlog: int = 4,
        on_drop: Callable[[], None] | None = None,
        direct_writes: bool = True,
        send_buffer_bytes: int = direct_send.DEFAULT_SEND_BUFFER_BYTES,
        guard: Guard | None = None,
        private: bool = True,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._configure(max_backlog, on_drop, direct_writes, send_buffer_bytes, guard, private)

    def _configure(
        self,
        max_backlog: int,
        on_drop: Callable[[], None] | None,
        direct_writes: bool,
        send_buffer_bytes: int,
        guard: Guard | None,
        private: bool,
    ) -> None:
        if max_backlog < 1:
            raise ValueError(f"max_backlog must be >= 1, got {max_backlog}")
        self.private = private and internals.usable()
        self.max_backlog = max_backlog
        self.on_drop = on_drop
        self.direct_writes = direct_writes and self.private
        self.send_buffer_bytes = send_buffer_bytes
        self.guard = guard

    def pre_connect(self, eio_sid, namespace):
        # The first namespace a client connects to comes straight after the Engine.IO handshake,
        # when nothing but the handshake has been written: the moment to guard its writes.
        result = super().pre_connect(eio_sid, namespace)
        if self.direct_writes:
            environ = internals.client_environ(self.server, eio_sid)
            if environ is not None:
                direct_send.attach(environ, send_buffer_bytes=self.send_buffer_bytes)
        return result

    def _direct(self, eio_sid: str) -> direct_send.DirectSocket | None:
        environ = internals.client_environ(self.server, eio_sid)
        return None if environ is None else environ.get(direct_send.ENVIRON_KEY)

    def _dropped(self) -> None:
        if self.on_drop is not None:
            self.on_drop()

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
        self._send_to(list(self.get_participants(namespace, room)), prepared, skip_sid)

    def _send_to(self, participants: list[tuple[str, str]], prepared: Prepared, skip_sid: Any) -> None:
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        for sid, eio_sid in participants:
            if sid in skip:
                continue
            direct = None if prepared.frame is None else self._direct(eio_sid)
            if direct is not None and prepared.frame is not None:
                outcome = direct.try_send(prepared.frame)
                if outcome is direct_send.Outcome.FULL:
                    self._dropped()
                if outcome is not direct_send.Outcome.QUEUE:
                    continue
            backlog = internals.backlog(self.server, eio_sid) if self.private else None  # None: never skip
            if backlog is not None and backlog >= self.max_backlog:
                self._dropped()
                continue
            for pkt in prepared.eio_packets:
                internals.send_eio_packet(self.server, eio_sid, pkt, private=self.private)

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if self.guard is not None and not self.guard(event, data, namespace, room, callback):
            return None
        if callback:
            # Acknowledged messages are one-to-one replies: never drop those.
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        participants = list(self.get_participants(namespace, room))
        if not participants:
            return None  # nobody in the room: do not even encode
        self._send_to(participants, self.prepare(event, data, namespace), skip_sid)
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
        guard: Guard | None = None,
        private: bool = True,
        **kwargs: Any,
    ):
        socketio.RedisManager.__init__(self, url, **kwargs)
        self._configure(max_backlog, on_drop, direct_writes, send_buffer_bytes, guard, private)
