"""Undecodable packets from Socket.IO clients: dropped in one log line each and counted, never a traceback.

Two places decode what a client sends. python-socketio decodes each Engine.IO message into a
Socket.IO packet, and python-engineio decodes each websocket message into an Engine.IO packet;
either raises on garbage (a bad packet type, broken JSON, 50,000 nested brackets) and the
libraries log the full traceback. A client can send that as fast as it likes.

- Socket.IO packets: the server's message handler is wrapped (:mod:`webmap.internals`).
- Engine.IO packets on a websocket: the error leaves the connection's WSGI call, which is
  wrapped here; the session is then closed at once instead of lingering until its ping times out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from webmap import internals
from webmap.metrics import WebMetrics

logger = logging.getLogger(__name__)


def install_packet_guard(app: Flask, server: Any, metrics: WebMetrics, *, private: bool) -> None:
    """Catch undecodable client packets of ``server`` (the app's ``socketio.Server``).

    ``private`` allows the Socket.IO part, which wraps a private method (:mod:`webmap.internals`).
    """

    def malformed(where: str, error: BaseException) -> None:
        metrics.malformed_packets.inc()
        # The error's class only: its message may quote what the client sent.
        logger.warning("dropped an undecodable %s packet from a client (%s)", where, type(error).__name__)

    if private:
        internals.catch_undecodable_messages(server, lambda _sid, error: malformed("Socket.IO", error))
    inner = app.wsgi_app

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return inner(environ, start_response)
        except (ValueError, RecursionError) as error:
            websocket = environ.get("wsgi.websocket")
            if websocket is None:
                raise
            malformed("Engine.IO", error)
            eio_sid = internals.eio_sid_of(server, websocket) if private else None
            if eio_sid is not None:
                server.eio.disconnect(eio_sid)
            return []

    app.wsgi_app = guarded  # type: ignore[method-assign]
