"""Every use of another library's private parts, in one place, with its contract and its fallback.

The fan-out needs a few things the libraries do not offer publicly. This module is the only one
in the project that touches them (``tests/test_architecture.py`` checks it); everything else calls
the functions here, each of which answers ``None``/``False`` instead of failing when its part is
gone, so that the caller takes the library's public path and keeps delivering.

===========================  ==================================================  ===================================
library (version checked)    private part                                        used for; public fallback
===========================  ==================================================  ===================================
python-engineio 4.15.1       ``Server.sockets[sid].queue.qsize()``               a client's backlog, to skip slow
                                                                                 clients; fallback: never skip
python-socketio 5.18.1       ``Server.environ[eio_sid]``                         the WSGI environ holding the
                                                                                 client's websocket; fallback: no
                                                                                 direct writes
python-socketio 5.18.1       ``Manager.callbacks``, ``pending_connect``,         clearing a leaving client's state
                             ``pending_disconnect``                              without scanning every room;
                                                                                 fallback: ``basic_disconnect``
python-socketio 5.18.1       ``Server._send_eio_packet``                         sending an encoded packet the way the
                                                                                 server itself does (its test client
                                                                                 listens there); fallback:
                                                                                 ``eio.send_packet``
python-socketio 5.18.1       ``Server._handle_eio_message``                      catching undecodable packets in one
                                                                                 log line; fallback: the library's
                                                                                 traceback
gevent-websocket 0.10.1      ``WebSocket.raw_write``, ``.handler.socket``,       writing a frame once to every
                             ``.closed``                                         socket; fallback: Engine.IO's queue
===========================  ==================================================  ===================================

:func:`contract_problems` checks each part on real objects of the installed libraries (at app
start, and in ``tests/webmap/test_internals.py``); any problem is logged once, naming library and
version, and :func:`usable` is then False: the app turns every private path off. An operator
can turn them off too (``CROWDMAP_PRIVATE_LIBRARY_ACCESS=0``, :mod:`webmap.settings`).
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# The versions each contract was written against (pyproject.toml pins exactly these).
TESTED_WITH = {
    "python-engineio": "4.15.1",
    "python-socketio": "5.18.1",
    "gevent-websocket": "0.10.1",
}


def installed(library: str) -> str:
    """The installed version of ``library`` (its distribution name), or ``"missing"``."""
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _who(library: str) -> str:
    return f"{library} {installed(library)} (contract written for {TESTED_WITH[library]})"


def _engineio_queue() -> str | None:
    import engineio
    from engineio import packet
    from engineio.socket import Socket

    socket = Socket(engineio.Server(async_mode="threading"), "contract")
    before = socket.queue.qsize()
    socket.send(packet.Packet(packet.MESSAGE, "x"))
    if socket.queue.qsize() != before + 1:
        return "Socket.queue.qsize() does not count a packet sent to the socket"
    return None


def _socketio_server() -> str | None:
    import socketio

    server = socketio.Server(async_mode="threading")
    if not isinstance(getattr(server, "environ", None), dict):
        return "Server.environ is not the dict of each client's WSGI environ"
    for name, parameters in (
        ("_handle_eio_message", ["eio_sid", "data"]),
        ("_send_eio_packet", ["eio_sid", "eio_pkt"]),
    ):
        method = getattr(server, name, None)
        if method is None or list(inspect.signature(method).parameters) != parameters:
            return f"Server.{name}({', '.join(parameters)}) is gone or has another signature"
    handler = server._handle_eio_message
    if server.eio.handlers.get("message") != handler:
        return "Server does not receive Engine.IO messages through _handle_eio_message"
    manager = socketio.Manager()
    for name in ("callbacks", "pending_connect", "pending_disconnect"):
        if not isinstance(getattr(manager, name, None), dict):
            return f"Manager.{name} is not a dict"
    return None


def _gevent_websocket() -> str | None:
    from geventwebsocket.websocket import WebSocket

    slots = set(getattr(WebSocket, "__slots__", ()))
    missing = {"raw_write", "handler", "closed"} - slots
    if missing:
        return f"WebSocket has no {sorted(missing)} any more"
    if list(inspect.signature(WebSocket.__init__).parameters) != ["self", "environ", "stream", "handler"]:
        return "WebSocket(environ, stream, handler) has another signature"
    return None


CONTRACTS: dict[str, Callable[[], str | None]] = {
    "python-engineio": _engineio_queue,
    "python-socketio": _socketio_server,
    "gevent-websocket": _gevent_websocket,
}


@functools.cache
def contract_problems() -> tuple[str, ...]:
    """What no longer holds of the private parts this module uses, each naming library and version."""
    problems = []
    for library, contract in CONTRACTS.items():
        try:
            problem = contract()
        except Exception as error:  # any way the part broke is a broken contract
            problem = f"checking it raised {type(error).__name__}: {error}"
        if problem is not None:
            problems.append(f"{_who(library)}: {problem}")
    for problem in problems:
        logger.error("private library access turned off, the public paths deliver instead: %s", problem)
    return tuple(problems)


def usable() -> bool:
    """Whether every contract holds, so that the private paths may be used in this process."""
    return not contract_problems()


# ---- python-engineio ------------------------------------------------------------------------


def backlog(server: Any, eio_sid: str) -> int | None:
    """Packets waiting in Engine.IO's queue for one client; ``None`` when that cannot be read.

    Args:
        server: The ``socketio.Server``.
        eio_sid: The client's Engine.IO session id.
    """
    try:
        socket = server.eio.sockets.get(eio_sid)
        return 0 if socket is None else int(socket.queue.qsize())
    except (AttributeError, TypeError, ValueError):
        return None


# ---- python-socketio --------------------------------------------------------------------------


def send_eio_packet(server: Any, eio_sid: str, pkt: Any, *, private: bool) -> None:
    """Send one encoded Engine.IO packet to a client through the server's own funnel.

    python-socketio sends every packet through ``Server._send_eio_packet`` (which calls the
    public ``eio.send_packet``); its test client replaces it to listen. With ``private`` off,
    the public call.
    """
    send = getattr(server, "_send_eio_packet", None) if private else None
    if send is None:
        server.eio.send_packet(eio_sid, pkt)
    else:
        send(eio_sid, pkt)


def client_environ(server: Any, eio_sid: str) -> dict[str, Any] | None:
    """The WSGI environ of a client's Engine.IO session, or ``None``."""
    environ = getattr(server, "environ", None)
    return environ.get(eio_sid) if isinstance(environ, dict) else None


def eio_sid_of(server: Any, websocket: Any) -> str | None:
    """The Engine.IO session of a websocket connection (its environ's ``wsgi.websocket``), or ``None``.

    By the websocket object: Flask-SocketIO hands Engine.IO a copy of each request's environ.
    """
    sessions = getattr(server, "environ", None)
    if not isinstance(sessions, dict):
        return None
    return next((sid for sid, known in list(sessions.items()) if known.get("wsgi.websocket") is websocket), None)


def clear_client(manager: Any, sid: str, namespace: str) -> bool:
    """Drop a leaving client's callbacks and pending marks, as ``basic_disconnect`` does after its scan.

    Returns:
        False when the manager's tables are not what the contract says; the caller must then
        use the library's own ``basic_disconnect``.
    """
    tables = [getattr(manager, name, None) for name in ("callbacks", "pending_connect", "pending_disconnect")]
    if not all(isinstance(table, dict) for table in tables):
        return False
    callbacks, *pending = tables
    callbacks.pop(sid, None)
    for marks in pending:
        sids = marks.get(namespace)
        if sids is not None and sid in sids:
            sids.remove(sid)
            if not sids:
                del marks[namespace]
    return True


def catch_undecodable_messages(server: Any, on_error: Callable[[str, Exception], None]) -> bool:
    """Route the server's Engine.IO messages through a handler that catches decoding errors.

    python-socketio decodes each message in ``_handle_eio_message``; an undecodable one raises
    there, and Engine.IO logs the full traceback of every such packet. ``on_error(eio_sid,
    error)`` gets them instead.

    Returns:
        False when the contract does not hold (the library keeps its own handler).
    """
    handler = getattr(server, "_handle_eio_message", None)
    if handler is None:
        return False

    def guarded(eio_sid: str, data: Any) -> None:
        try:
            handler(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError) as error:
            on_error(eio_sid, error)

    server.eio.on("message", guarded)
    return True


# ---- gevent-websocket ---------------------------------------------------------------------------


def lock_websocket_writes(websocket: Any, lock: Any) -> Any | None:
    """Make every write gevent-websocket makes on ``websocket`` take ``lock``.

    Returns:
        The connection's socket, for direct non-blocking sends, or ``None`` when the
        connection is not what the contract says (it then keeps Engine.IO's queued path).
    """
    try:
        write: Callable[[bytes], None] = websocket.raw_write
        sock = websocket.handler.socket
    except AttributeError:
        return None
    if write is None or sock is None:
        return None

    def locked_write(data: bytes) -> None:
        with lock:
            write(data)

    # Engine.IO's writer greenlet, pings and the close all write through raw_write.
    websocket.raw_write = locked_write
    return sock


def websocket_closed(websocket: Any) -> bool:
    """Whether gevent-websocket has closed the connection (unknown counts as closed)."""
    return bool(getattr(websocket, "closed", True))
