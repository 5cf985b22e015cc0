"""Broadcast frames encoded once and written straight to each client's socket.

python-socketio delivers a broadcast by queueing the packet for every client and waking one
writer greenlet per client, which frames the message and writes it. At thousands of clients
that per-client machinery, not the network, is what a frame waits for (``bench/fanout.py``).
Here a broadcast builds the WebSocket frame once and hands it to every client's socket with one
non-blocking ``send`` in the broadcasting greenlet.

One writer at a time per socket, so frames never interleave: :class:`DirectSocket` wraps the
connection's own write function (gevent-websocket's ``raw_write``, a private part fenced in
:mod:`webmap.internals`) in a lock, and a direct
write is tried only while that lock is free and Engine.IO's queue for the client is empty;
otherwise the caller falls back to the queue, which keeps the order. When the socket buffer
fills in the middle of a frame, the lock stays held until a greenlet has written the rest.
A client whose buffer is full (it stopped reading) loses the frame; the kernel buffer, capped
at ``send_buffer_bytes``, is all the memory a slow client can hold.

Only gevent with gevent-websocket has a socket to write to; every other server (the threading
mode of the tests, long-polling clients) keeps python-socketio's own path.
"""

from __future__ import annotations

import enum
import socket
import struct
from typing import Any

from webmap import internals

# Where a connection's DirectSocket lives: in its WSGI environ, which python-socketio drops
# when the client disconnects, so nothing else has to be cleaned up.
ENVIRON_KEY = "crowdmap.direct_socket"
DEFAULT_SEND_BUFFER_BYTES = 64 * 1024

_OPCODE_TEXT = 0x1
_FIN = 0x80


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked RFC 6455 text frame (server to client) carrying ``payload``."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _FIN | _OPCODE_TEXT, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", _FIN | _OPCODE_TEXT, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN | _OPCODE_TEXT, 127, length)
    return header + payload


class Outcome(enum.Enum):
    """What became of one direct write."""

    SENT = "sent"  # the whole frame is in the socket buffer, or a greenlet is finishing it
    QUEUE = "queue"  # another write is pending: use Engine.IO's queue to keep the order
    FULL = "full"  # the socket buffer is full: the client is not reading, drop the frame
    CLOSED = "closed"  # the connection is gone


class DirectSocket:
    """Non-blocking, non-interleaving writes of whole frames to one gevent-websocket connection.

    Args:
        websocket: gevent-websocket's ``WebSocket`` of the connection.
        send_buffer_bytes: Socket send buffer (``SO_SNDBUF``); bounds what a stalled client holds.

    Raises:
        ValueError: if the connection does not offer what :mod:`webmap.internals` needs.
    """

    def __init__(self, websocket: Any, *, send_buffer_bytes: int = DEFAULT_SEND_BUFFER_BYTES):
        import gevent
        from gevent.lock import Semaphore

        if send_buffer_bytes < 4096:
            raise ValueError(f"send_buffer_bytes must be >= 4096, got {send_buffer_bytes}")
        self._websocket = websocket
        self._lock = Semaphore()
        self._spawn = gevent.spawn
        sock = internals.lock_websocket_writes(websocket, self._lock)
        if sock is None:
            raise ValueError("this connection cannot be written directly")
        self._socket = sock
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)

    def try_send(self, frame: bytes) -> Outcome:
        """Write one complete WebSocket frame now, without waiting, or say why not."""
        if internals.websocket_closed(self._websocket):
            return Outcome.CLOSED
        if self._lock.locked():
            return Outcome.QUEUE
        try:
            # gevent's send with timeout 0.0 makes one system call and never switches greenlets,
            # so no other write can start between the lock check above and this one.
            sent = self._socket.send(frame, 0, 0.0)
        except BlockingIOError:
            return Outcome.FULL
        except OSError:
            return Outcome.CLOSED
        if sent < len(frame):
            self._lock.acquire()  # free (checked above, nothing switched since): never waits
            self._spawn(self._finish, memoryview(frame)[sent:])
        return Outcome.SENT

    def _finish(self, rest: memoryview) -> None:
        try:
            self._socket.sendall(rest)
        except OSError:
            # Half a frame is on the wire and the rest cannot follow: the stream is unusable.
            # Shutting it down makes the connection's reader see the end and clean up.
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        finally:
            self._lock.release()


def attach(environ: dict[str, Any], *, send_buffer_bytes: int = DEFAULT_SEND_BUFFER_BYTES) -> DirectSocket | None:
    """The connection's :class:`DirectSocket`, created on first use; ``None`` without gevent-websocket.

    Call it when the client first connects to a namespace: only the Engine.IO handshake has been
    written by then, so no write can be half done when the lock is put around the writes.
    """
    direct = environ.get(ENVIRON_KEY)
    if direct is not None:
        return direct
    websocket = environ.get("wsgi.websocket")
    if websocket is None:
        return None
    try:
        direct = DirectSocket(websocket, send_buffer_bytes=send_buffer_bytes)
    except (OSError, ValueError):
        return None  # closed under us, or not a connection we can write: it keeps the queued path
    environ[ENVIRON_KEY] = direct
    return direct
