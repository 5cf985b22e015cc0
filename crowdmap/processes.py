"""Process entry points and supervision for the embedded station (one machine, no Redis).

Each edge worker and the aggregator run in a child process started with ``spawn`` so that
no camera frame, detector state or raw position can be shared with the web process by
accident: the only link between them is a bus topic carrying validated bytes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from bus.backoff import HEALTHY_AFTER_S, RESTART_S, Backoff
from bus.embedded import QueueTopic

log = logging.getLogger(__name__)

# How long an orphaned child may take to stop by itself before it exits outright.
ORPHAN_GRACE_S = 5.0


def _child_setup(log_level: str, stop: Event) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    # The parent owns shutdown: it sets the stop event, so Ctrl-C must not kill children mid-write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(stop)


def watch_parent(stop: Event, poll_s: float = 1.0, grace_s: float = ORPHAN_GRACE_S) -> None:
    """Stop this process when the parent goes away (killed with SIGKILL, say) and it is orphaned.

    A parent that dies without stopping its children would leave cameras processing and
    publishing with nobody reading; the orphan notices, sets ``stop`` so it (and every sibling
    sharing the event) winds down cleanly, and exits outright if it has not done so within
    ``grace_s``: a child still loading its station or detector when the parent died would
    otherwise finish that first, which on loaded cores takes tens of seconds. The parent is
    watched through the pipe multiprocessing keeps to it, so a parent that died before this
    child got here counts too.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        # The parent first: an orphaned sibling may already have set the shared ``stop``.
        while parent.is_alive():
            if stop.is_set():  # an ordinary shutdown: the parent waits for this process
                return
            time.sleep(poll_s)
        log.warning("the station process is gone; stopping")
        stop.set()
        time.sleep(grace_s)
        # Still here: nobody is left to read what this process would send.
        log.warning("still running %.0f s after the station process went away; exiting", grace_s)
        logging.shutdown()
        os._exit(0)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def edge_main(
    station_path: str, camera_id: str, topic: QueueTopic, stop: Event, options: dict[str, Any], log_level: str
) -> None:
    """Run one camera's edge worker until ``stop`` is set."""
    _child_setup(log_level, stop)
    from crowdmap.observers import make_observer_factory
    from crowdmap.station import load_station
    from crowdmap.tiers.edge import build_worker

    station = load_station(station_path)
    worker = build_worker(
        station.layout, camera_id, station.calibrations[camera_id], topic, make_observer_factory(options)
    )
    log.info("edge worker for camera %s started", camera_id)
    topic.detach()
    worker.run(stop.is_set)


def aggregator_main(
    station_path: str, inbox: QueueTopic, outbox: QueueTopic, stop: Event, options: dict[str, Any], log_level: str
) -> None:
    """Run the station's aggregator until ``stop`` is set."""
    _child_setup(log_level, stop)
    from crowdmap.station import load_station
    from crowdmap.wiring import build_aggregator

    station = load_station(station_path)
    aggregator = build_aggregator(station, outbox, history_url=options.get("history_url"))
    log.info("aggregator for station %s started", station.id)
    outbox.detach()
    aggregator.run(inbox, stop.is_set)


@dataclass
class Child:
    """A supervised child process, restarted with backoff when it dies."""

    name: str
    target: Callable[..., None]
    args: tuple[Any, ...]
    process: BaseProcess | None = None
    restarts: int = 0
    next_start_s: float = 0.0
    backoff: Backoff = field(default_factory=lambda: Backoff(RESTART_S, reset_after_s=HEALTHY_AFTER_S))


@dataclass
class Supervisor:
    """Starts children, restarts the ones that die, and stops them all on request."""

    context: Any = field(default_factory=lambda: multiprocessing.get_context("spawn"))
    children: list[Child] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stop_event: Event = self.context.Event()

    def add(self, name: str, target: Callable[..., None], *args: Any) -> None:
        self.children.append(Child(name, target, args))

    def _start(self, child: Child) -> None:
        child.process = self.context.Process(target=child.target, args=child.args, name=child.name, daemon=True)
        child.process.start()

    def start(self) -> None:
        for child in self.children:
            self._start(child)

    def poll(self, now_s: float | None = None) -> None:
        """Restart any child that died, waiting longer after each crash."""
        now = time.monotonic() if now_s is None else now_s
        for child in self.children:
            if child.process is None or child.process.is_alive() or self.stop_event.is_set():
                continue
            if child.next_start_s == 0.0:
                delay = child.backoff.failed(now)
                child.next_start_s = child.backoff.next_try_s
                log.warning("%s exited with code %s; restarting in %.0f s", child.name, child.process.exitcode, delay)
            elif now >= child.next_start_s:
                child.restarts += 1
                child.next_start_s = 0.0
                self._start(child)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask every child to finish, then terminate the ones that do not."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout_s
        for child in self.children:
            if child.process is not None:
                child.process.join(max(0.0, deadline - time.monotonic()))
        for child in self.children:
            if child.process is not None and child.process.is_alive():
                log.warning("%s did not stop in time; terminating it", child.name)
                child.process.terminate()
                child.process.join(1.0)
