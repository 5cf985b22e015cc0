"""Socket.IO client managers that drop frames for slow clients instead of queueing without limit.

python-socketio queues every packet for every client in an unbounded queue; a phone on a bad
link would make the server's memory grow by one frame a second forever. These managers skip a
broadcast for any client that still has ``max_backlog`` packets waiting. A client that only
fell behind gets the next frame once it catches up: the map shows the latest state, never a
backlog of old ones.

``BoundedRedisManager`` puts the same rule under Flask-SocketIO's Redis message queue: its
method resolution order is RedisManager -> PubSubManager -> BoundedManager -> Manager, so
frames published by any process are fanned out locally through ``BoundedManager.emit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

logger = logging.getLogger(__name__)


class BoundedManager(socketio.Manager):
    """An in-memory manager whose broadcasts skip clients with a full send queue.

    Args:
        max_backlog: Packets that may wait for one client before broadcasts skip it.
        on_drop: Called once per skipped client (a metrics counter).
    """

    def __init__(self, *args: Any, max_backlog: int = 4, on_drop: Callable[[], None] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if max_backlog < 1:
            raise ValueError(f"max_backlog must be >= 1, got {max_backlog}")
        self.max_backlog = max_backlog
        self.on_drop = on_drop

    def _backlog(self, eio_sid: str) -> int:
        socket = self.server.eio.sockets.get(eio_sid)
        return 0 if socket is None else socket.queue.qsize()

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback or namespace not in self.rooms:
            # Acknowledged messages are one-to-one replies: never drop those.
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        participants = list(self.get_participants(namespace, room))
        if not participants:
            return None  # nobody in the room: do not even encode
        args = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        # Encode once: every recipient gets the same bytes.
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        eio_packets = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in parts]
        for sid, eio_sid in participants:
            if sid in skip:
                continue
            if self._backlog(eio_sid) >= self.max_backlog:
                if self.on_drop is not None:
                    self.on_drop()
                continue
            for pkt in eio_packets:
                self.server._send_eio_packet(eio_sid, pkt)
        return None


class BoundedRedisManager(socketio.RedisManager, BoundedManager):
    """Flask-SocketIO's Redis message queue with :class:`BoundedManager`'s local fan-out."""

    def __init__(self, url: str, *, max_backlog: int = 4, on_drop: Callable[[], None] | None = None, **kwargs: Any):
        socketio.RedisManager.__init__(self, url, **kwargs)
        self.max_backlog = max_backlog
        self.on_drop = on_drop
