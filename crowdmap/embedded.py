"""Stations on one machine: edge workers, aggregators and a web server as supervised processes.

The parent process only supervises. Each camera's edge worker, each station's aggregator and the
web server are separate ``spawn`` children linked by bounded queues of validated bytes, so the web
process never holds a frame, a detector or a raw position (PRIVACY.md P1).

The station starts together: the parent checks that its port is free, starts every child, waits
until the web server listens and every simulated camera and aggregator is ready, and only then
starts the simulated crowd's clock, announces the URL and counts ``duration_s`` (a real camera
joins whenever it is ready, as a camera coming online would).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from bus.embedded import QueueTopic
from crowdmap.processes import Supervisor, aggregator_main, edge_main
from crowdmap.station import Station
from crowdmap.webproc import listen_error, web_main

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class EmbeddedOptions:
    """How to run a station on one machine.

    Attributes:
        host: Address the web server binds.
        port: Port of the web server.
        duration_s: Stop this many seconds after the station started (all its processes ready);
            None runs until interrupted.
        data_dir: Folder for the history database, accounts and the web secret.
        history_url: History store URL; None for a SQLite file in ``data_dir``, "" for none.
        edge: Options for the edge workers (``video``, ``backend``, ``realtime``, ``loop``, ``seed``).
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


def port_problem(host: str, port: int) -> str | None:
    """Why the web server could not listen on ``host:port``, or None when it can (checked by binding)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the web server binds: a port in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return listen_error(host, port, error)
    return None


def run_embedded(stations: Station | Sequence[Station], options: EmbeddedOptions) -> int:
    """Run whole stations (one web server for all) until interrupted or ``options.duration_s`` has passed.

    Returns:
        0 after a clean stop; 1 when the station cannot start (the port is taken, a process fails
        while starting) or a process reports that it cannot run, with one line on stderr saying why.
    """
    stations = [stations] if isinstance(stations, Station) else list(stations)
    problem = port_problem(options.host, options.port)
    if problem:
        print(f"crowdmap: {problem}", file=sys.stderr, flush=True)
        return 1
    options.data_dir.mkdir(parents=True, exist_ok=True)
    frames = QueueTopic.create(capacity=64)
    supervisor = Supervisor()
    start = supervisor.start_line
    histories = {}
    for station in stations:
        positions = QueueTopic.create(capacity=1024)
        path = str(station.path)
        histories[station.id] = options.history(station.id)
        for camera in station.layout.cameras:
            name = f"edge-{camera.id}" if len(stations) == 1 else f"edge-{station.id}-{camera.id}"
            args = (path, camera.id, positions, supervisor.stop_event, options.edge, options.log_level, start, name)
            # Simulated cameras share the station's clock, so they must be ready before it starts.
            supervisor.add(name, edge_main, *args, gate=camera.source == "sim")
        name = "aggregator" if len(stations) == 1 else f"aggregator-{station.id}"
        inbox = {"history_url": histories[station.id]}
        supervisor.add(
            name,
            aggregator_main,
            *(path, positions, frames, supervisor.stop_event, inbox, options.log_level, start, name),
        )
    web_options = {"history_urls": histories, "data_dir": str(options.data_dir)}
    paths = [str(station.path) for station in stations]
    web_args = (paths, frames, supervisor.stop_event, options.host, options.port, web_options, options.log_level)
    supervisor.add("web", web_main, *web_args, start, "web")

    cameras = sum(len(station.layout.cameras) for station in stations)
    print(f"crowdmap: starting {cameras} cameras and the web server ...", flush=True)
    # SIGTERM (systemd, docker stop, kill) and SIGINT (Ctrl-C) both stop every child: without a
    # handler SIGTERM ends this process at once and leaves the children running.
    asked = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: asked.set()) for signum in STOP_SIGNALS}
    failure: str | None = None
    supervisor.start()
    try:
        failure = supervisor.wait_ready(asked.is_set)
        if failure is None:
            start.open(time.time())
            url = f"http://{options.host}:{options.port}/"
            for station in stations:
                label = " (SIMULATION)" if station.layout.station.simulated else ""
                count = len(station.layout.cameras)
                # The map opens on the first station; each further one has its own address too.
                where = f": {url}?station={station.id}" if len(stations) > 1 else ""
                print(f"crowdmap: station {station.id}{label} with {count} cameras{where}", flush=True)
            print(f"crowdmap: public map at {url}", flush=True)
            deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
            while not asked.is_set() and (deadline is None or time.monotonic() < deadline):
                supervisor.poll()
                failure = supervisor.failure()
                if failure:
                    break
                asked.wait(0.2)
        if asked.is_set():
            print("crowdmap: stopping", flush=True)
    finally:
        supervisor.stop(timeout_s=10.0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failure:
        print(f"crowdmap: {failure}", file=sys.stderr, flush=True)
        return 1
    log.info("stations %s stopped (pid %d)", ", ".join(s.id for s in stations), os.getpid())
    return 0
