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


READY = "ready"
FAILED = "failed"


@dataclass
class StartLine:
    """How the processes of a station start together.

    Each child says when it is ready to run (its simulation warmed up, its detector loaded, the
    web server listening) or why it cannot start; once every child that must start together is
    ready, the parent opens the line with the station's clock: ``epoch_s``, the wall time at which
    the simulated crowd's clock reads 0. So a demo's first train arrives a fixed time after the
    station is ready, however long the start took on a loaded machine.

    Attributes:
        reports: ``(child name, READY or FAILED, reason)`` from the children to the parent.
        go: Set by the parent once the station starts.
        epoch: The station's clock origin, unix seconds (valid once ``go`` is set).
    """

    reports: Any
    go: Event
    epoch: Any

    @classmethod
    def create(cls, context: Any) -> StartLine:
        # A SimpleQueue writes to its pipe in the caller: a Queue's feeder thread never runs in
        # the gevent-patched web process, so its reports would never arrive.
        return cls(reports=context.SimpleQueue(), go=context.Event(), epoch=context.Value("d", 0.0))

    def ready(self, name: str) -> None:
        """Report that child ``name`` is ready to run."""
        self.reports.put((name, READY, ""))

    def failed(self, name: str, reason: str) -> None:
        """Report that child ``name`` cannot run, and why (one line, for the user)."""
        self.reports.put((name, FAILED, reason))

    def open(self, epoch_s: float) -> None:
        """Start the station with its clock at 0 at ``epoch_s``."""
        self.epoch.value = epoch_s
        self.go.set()

    def wait(self, stop: Event, poll_s: float = 0.2) -> float | None:
        """Block until the station starts: its epoch, or None when stopped first."""
        while not self.go.wait(poll_s):
            if stop.is_set():
                return None
        return float(self.epoch.value)


def edge_main(
    station_path: str,
    camera_id: str,
    topic: QueueTopic,
    stop: Event,
    options: dict[str, Any],
    log_level: str,
    start: StartLine,
    name: str,
) -> None:
    """Run one camera's edge worker from the station's start until ``stop`` is set."""
    _child_setup(log_level, stop)
    from crowdmap.observers import SimulatedObserver, make_observer_factory
    from crowdmap.station import load_station
    from crowdmap.tiers.edge import build_worker

    station = load_station(station_path)
    worker = build_worker(
        station.layout, camera_id, station.calibrations[camera_id], topic, make_observer_factory(options)
    )
    topic.detach()
    start.ready(name)
    epoch_s = start.wait(stop)
    if epoch_s is None:
        return
    if isinstance(worker.observer, SimulatedObserver):
        worker.observer.start_clock(epoch_s)
    log.info("edge worker for camera %s started", camera_id)
    worker.run(stop.is_set)


def aggregator_main(
    station_path: str,
    inbox: QueueTopic,
    outbox: QueueTopic,
    stop: Event,
    options: dict[str, Any],
    log_level: str,
    start: StartLine,
    name: str,
) -> None:
    """Run the station's aggregator until ``stop`` is set."""
    _child_setup(log_level, stop)
    from crowdmap.station import load_station
    from crowdmap.wiring import build_aggregator

    station = load_station(station_path)
    aggregator = build_aggregator(station, outbox, history_url=options.get("history_url"))
    log.info("aggregator for station %s started", station.id)
    outbox.detach()
    start.ready(name)
    aggregator.run(inbox, stop.is_set)


@dataclass
class Child:
    """A supervised child process, restarted with backoff when it dies."""

    name: str
    target: Callable[..., None]
    args: tuple[Any, ...]
    gate: bool = True
    process: BaseProcess | None = None
    restarts: int = 0
    crashes: int = 0
    next_start_s: float = 0.0
    backoff: Backoff = field(default_factory=lambda: Backoff(RESTART_S, reset_after_s=HEALTHY_AFTER_S))


@dataclass
class Supervisor:
    """Starts children, restarts the ones that die, and stops them all on request."""

    context: Any = field(default_factory=lambda: multiprocessing.get_context("spawn"))
    children: list[Child] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stop_event: Event = self.context.Event()
        self.start_line = StartLine.create(self.context)

    def add(self, name: str, target: Callable[..., None], *args: Any, gate: bool = True) -> None:
        """Supervise ``target(*args)`` as child ``name``.

        A gated child must report ready (``start_line.ready``) before the station starts; an
        ungated one (a real camera, which may be down at start) joins whenever it is ready.
        """
        self.children.append(Child(name, target, args, gate))

    def wait_ready(self, should_stop: Callable[[], bool], max_crashes: int = 3) -> str | None:
        """Supervise until every gated child is ready.

        Returns:
            None once all are ready; "" when ``should_stop()`` came first; otherwise why the station
            cannot start: the reason a child reported, or which child crashed ``max_crashes``
            times before it was ready.
        """
        waiting = {child.name for child in self.children if child.gate}
        while waiting:
            if should_stop():
                return ""
            self.poll()
            for child in self.children:
                if child.name in waiting and child.crashes >= max_crashes:
                    return f"{child.name} stopped {child.crashes} times while starting; see its log above"
            reason = self._next_report(waiting, timeout_s=0.2)
            if reason:
                return reason
        return None

    def failure(self) -> str | None:
        """Why the station must stop, if a child reported that it cannot run (checked without waiting)."""
        return self._next_report(set(), timeout_s=0.0) or None

    def _next_report(self, waiting: set[str], timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while self.start_line.reports.empty():
            if time.monotonic() >= deadline:
                return ""
            time.sleep(min(0.05, timeout_s))
        name, state, reason = self.start_line.reports.get()
        if state == FAILED:
            return reason or f"{name} cannot run"
        waiting.discard(name)
        return ""

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
                child.crashes += 1
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
