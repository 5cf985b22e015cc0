"""The web process of the embedded station: the publishing tier, fed by the aggregator's queue.

This module imports nothing but the standard library and the bus at the top, because a spawned
child imports the module of its target: the web process must never load the detector, the
simulator or an image library (PRIVACY.md P1; tests/test_architecture.py checks it).
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

from bus.embedded import QueueTopic


def web_main(
    station_paths: list[str],
    frames: QueueTopic,
    stop: Any,
    host: str,
    port: int,
    options: dict[str, Any],
    log_level: str,
    start: Any,
    name: str,
) -> None:
    """The web process: serve the public map and API of the stations from the frames their aggregators send.

    It reports ready on ``start`` (a ``crowdmap.processes.StartLine``) once it accepts connections,
    and failed, with one line for the user, when it cannot listen on ``host:port``.
    """
    # gevent must patch the standard library before anything else opens sockets or threads here.
    from gevent import monkey

    monkey.patch_all()
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from crowdmap.processes import watch_parent

    watch_parent(stop)

    from station import load_layout
    from webmap.app import create_app, hub_of, serve
    from webmap.settings import WebSettings

    # The layouts only: the publishing tier needs no calibration, and so loads no image library.
    layouts = [load_layout(path) for path in station_paths]
    history = _history(layouts, options.get("history_urls", {}))
    settings = replace(WebSettings.from_env(), host=host, port=port, data_dir=Path(options["data_dir"]))
    # Calibration errors and camera coverage are fitted in a child process that may load OpenCV.
    from crowdmap.station_check import check_in_subprocess

    checks = [check for check in (check_in_subprocess(path) for path in station_paths) if check]
    app, socketio = create_app(settings, layouts=layouts, history=history, checks=checks or None)
    hub = hub_of(app)
    socketio.start_background_task(hub.pump, frames.queue, stop, sleep=socketio.sleep)

    def stop_when_asked() -> None:
        while not stop.is_set():
            socketio.sleep(0.2)
        socketio.stop()

    def ready_when_listening() -> None:
        # Knocking on our own door needs no library internals; the parent checked that the port
        # was free just before, so the server answering is this one.
        target = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
        while not stop.is_set():
            try:
                socket.create_connection((target, port), timeout=1.0).close()
            except OSError:
                socketio.sleep(0.1)
                continue
            start.ready(name)
            return

    socketio.start_background_task(stop_when_asked)
    socketio.start_background_task(ready_when_listening)
    try:
        serve(app, socketio, host=host, port=port)
    except OSError as error:
        start.failed(name, listen_error(host, port, error))


def listen_error(host: str, port: int, error: OSError) -> str:
    """One line for the user about a failed bind."""
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is already in use"
    if isinstance(error, socket.gaierror):
        return f"cannot listen on {host}:{port}: unknown address {host!r}"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


def _history(layouts: list[Any], urls: dict[str, str | None]) -> Any:
    """The history the web tier reads: each station's store, in the station's time zone (None: none)."""
    from history.source import StationHistories, StoreHistorySource
    from history.store import open_store

    sources = {
        layout.station.id: StoreHistorySource(open_store(url), timezone=layout.station.timezone)
        for layout in layouts
        if (url := urls.get(layout.station.id))
    }
    if not sources:
        return None
    if len(layouts) == 1:
        return next(iter(sources.values()))
    return StationHistories(sources)
