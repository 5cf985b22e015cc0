"""The web process of the embedded station: the publishing tier, fed by the aggregator's queue.

This module imports nothing but the standard library and the bus at the top, because a spawned
child imports the module of its target: the web process must never load the detector, the
simulator or an image library (PRIVACY.md P1; tests/test_architecture.py checks it).
"""

from __future__ import annotations

import logging
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

from bus.embedded import QueueTopic


def web_main(
    station_path: str, frames: QueueTopic, stop: Any, host: str, port: int, options: dict[str, Any], log_level: str
) -> None:
    """The web process: serve the public map and API from the frames the aggregator sends."""
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

    # The layout only: the publishing tier needs no calibration, and so loads no image library.
    layout = load_layout(station_path)
    history = None
    if options.get("history_url"):
        from history.source import StoreHistorySource
        from history.store import open_store

        history = StoreHistorySource(open_store(options["history_url"]), timezone=layout.station.timezone)
    settings = replace(WebSettings.from_env(), host=host, port=port, data_dir=Path(options["data_dir"]))
    # Calibration errors and camera coverage are fitted in a child process that may load OpenCV.
    from crowdmap.station_check import check_in_subprocess

    check = check_in_subprocess(station_path)
    app, socketio = create_app(settings, layouts=[layout], history=history, checks=[check] if check else None)
    hub = hub_of(app)
    socketio.start_background_task(hub.pump, frames.queue, stop, sleep=socketio.sleep)

    def stop_when_asked() -> None:
        while not stop.is_set():
            socketio.sleep(0.2)
        socketio.stop()

    socketio.start_background_task(stop_when_asked)
    serve(app, socketio, host=host, port=port)
