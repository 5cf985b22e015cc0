"""One station on one machine: edge workers, aggregator and web server as supervised processes.

The parent process only supervises. Each camera's edge worker, the aggregator and the web
server are separate ``spawn`` children linked by bounded queues of validated bytes, so the web
process never holds a frame, a detector or a raw position (PRIVACY.md P1).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from bus.embedded import QueueTopic
from crowdmap.processes import Supervisor, aggregator_main, edge_main
from crowdmap.station import Station
from crowdmap.webproc import web_main

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class EmbeddedOptions:
    """How to run a station on one machine.

    Attributes:
        host: Address the web server binds.
        port: Port of the web server.
        duration_s: Stop after this many seconds; None runs until interrupted.
        data_dir: Folder for the history database, accounts and the web secret.
        history_url: History store URL; None for a SQLite file in ``data_dir``, "" for none.
        edge: Options for the edge workers (``video``, ``backend``, ``realtime``, ``seed``).
        log_level: Log level of every process.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    duration_s: float | None = None
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("crowdmap")))
    history_url: str | None = None
    edge: dict[str, Any] = field(default_factory=dict)
    log_level: str = "INFO"

    def history(self, station_id: str) -> str | None:
        if self.history_url is None:
            return str(self.data_dir / f"history-{station_id}.sqlite3")
        return self.history_url or None


def run_embedded(station: Station, options: EmbeddedOptions) -> int:
    """Run a whole station until interrupted or ``options.duration_s`` has passed."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    positions = QueueTopic.create(capacity=1024)
    frames = QueueTopic.create(capacity=64)
    path = str(station.path)
    # Every simulated camera must simulate the same crowd: share one epoch and seed.
    edge_options = {"epoch_s": time.time(), **options.edge}
    history_url = options.history(station.id)
    supervisor = Supervisor()
    for camera in station.layout.cameras:
        supervisor.add(
            f"edge-{camera.id}",
            edge_main,
            path,
            camera.id,
            positions,
            supervisor.stop_event,
            edge_options,
            options.log_level,
        )
    supervisor.add(
        "aggregator",
        aggregator_main,
        path,
        positions,
        frames,
        supervisor.stop_event,
        {"history_url": history_url},
        options.log_level,
    )
    web_options = {"history_url": history_url, "data_dir": str(options.data_dir)}
    supervisor.add(
        "web", web_main, path, frames, supervisor.stop_event, options.host, options.port, web_options, options.log_level
    )

    label = " (SIMULATION)" if station.layout.station.simulated else ""
    print(f"crowdmap: station {station.id}{label} with {len(station.layout.cameras)} cameras", flush=True)
    print(f"crowdmap: public map at http://{options.host}:{options.port}/", flush=True)
    deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
    # SIGTERM (systemd, docker stop, kill) and SIGINT (Ctrl-C) both stop every child: without a
    # handler SIGTERM ends this process at once and leaves the children running.
    asked = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: asked.set()) for signum in STOP_SIGNALS}
    supervisor.start()
    try:
        while not asked.is_set() and (deadline is None or time.monotonic() < deadline):
            supervisor.poll()
            asked.wait(0.2)
        if asked.is_set():
            print("crowdmap: stopping", flush=True)
    finally:
        supervisor.stop(timeout_s=10.0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("station %s stopped (pid %d)", station.id, os.getpid())
    return 0
