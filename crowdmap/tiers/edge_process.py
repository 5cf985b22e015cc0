"""The edge as a scale-out process: cameras in, positions out to Redis, watched by ``/healthz``.

``crowdmap edge`` parses its options and calls :func:`run_edge_process`. Each camera runs in its
own thread with a :class:`crowdmap.tiers.edge.EdgeWorker`; all of them append to the station's
positions stream through one bounded publisher. Frames stay in this process (PRIVACY.md P1). A
camera whose worker fails is rebuilt with backoff while the others keep running; what it reports
(``reconnecting``, ``stalled``, ``dead`` and an error code) goes to the aggregator, which marks its
zones stale, and to ``/metrics``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily

from bus.backoff import RESTART_S, Backoff
from bus.codec import encode_camera_status
from bus.embedded import Publisher
from bus.redis_link import (
    DEFAULT_BUFFER_MESSAGES,
    DEFAULT_POSITIONS_MAXLEN,
    DEFAULT_POSITIONS_RETENTION_S,
    REDIS_DOWN_ERRORS,
    connect,
    positions_stream,
    warn_if_persistent,
)
from bus.redis_publisher import RedisStreamPublisher
from crowdmap.station import Station
from crowdmap.tiers.edge import build_worker
from crowdmap.tiers.ops import (
    Check,
    FunctionCollector,
    Heartbeat,
    OpsStarter,
    camera_state_metric,
    heartbeats_check,
    labelled,
    publisher_metrics,
)
from detector.types import Detections
from homography.calibration import Calibration
from iconizer.types import CameraStatus
from station import Camera, StationLayout

log = logging.getLogger(__name__)

# A camera loop that has not come round for this long is stuck (a frame takes far less).
MAX_LOOP_SILENCE_S = 30.0
SIM_EPOCH_TTL_S = 6 * 3600


# The detector time per frame in /metrics is the mean over this many of the camera's last frames.
DETECTOR_TIMING_FRAMES = 20


@dataclass
class DetectorTiming:
    """How long a camera takes to turn its newest frame into detections: the detector's pass.

    The camera's runner keeps one across worker rebuilds, so the totals only grow (a Prometheus
    summary's count and sum); the recent mean is what an operator compares with the frame budget.

    Attributes:
        frames: Frames that gave detections.
        seconds_total: Wall time those frames took, seconds.
    """

    frames: int = 0
    seconds_total: float = 0.0
    _recent_s: deque[float] = field(default_factory=lambda: deque(maxlen=DETECTOR_TIMING_FRAMES))

    def add(self, seconds: float) -> None:
        """Record one frame's time."""
        self.frames += 1
        self.seconds_total += seconds
        self._recent_s.append(seconds)

    def seconds_per_frame(self) -> float | None:
        """Mean time of the recent frames, or None before the first."""
        recent = list(self._recent_s)
        return sum(recent) / len(recent) if recent else None


@dataclass
class ProbedObserver:
    """An observer that also tells ``/healthz`` and ``/metrics`` how its camera is doing."""

    inner: Any
    heartbeat: Heartbeat
    last_status: CameraStatus | None = None
    timing: DetectorTiming = field(default_factory=DetectorTiming)
    clock: Callable[[], float] = time.perf_counter

    def observe(self, now_s: float) -> Detections | None:
        """The inner observer's detections, timed; beats the camera loop's heartbeat.

        For a real camera the time is the detector's: taking the newest frame from the source's
        reader thread is a hand-over, not a wait.
        """
        self.heartbeat.beat()
        began = self.clock()
        detections = self.inner.observe(now_s)
        if detections is not None:
            self.timing.add(self.clock() - began)
        return detections

    def status(self, now_s: float) -> CameraStatus:
        """The inner observer's status, remembered for the metrics."""
        self.last_status = self.inner.status(now_s)
        return self.last_status

    def close(self) -> None:
        """Release the camera."""
        self.inner.close()


@dataclass
class CameraRunner:
    """Runs one camera's edge worker in a thread, rebuilding it with backoff when it fails."""

    layout: StationLayout
    camera_id: str
    calib: Calibration
    publisher: Publisher
    observer_factory: Callable[[StationLayout, Camera, Calibration], Any]
    stop: threading.Event
    heartbeat: Heartbeat = field(init=False)
    restarts: int = 0
    frames_before: int = 0
    positions_before: int = 0
    probe: ProbedObserver | None = None
    worker: Any = None
    timing: DetectorTiming = field(default_factory=DetectorTiming)

    def __post_init__(self) -> None:
        self.heartbeat = Heartbeat(f"camera {self.camera_id}", MAX_LOOP_SILENCE_S)
        self.thread = threading.Thread(target=self.run, name=f"camera {self.camera_id}", daemon=True)

    def _probed_factory(self, layout: StationLayout, camera: Camera, calib: Calibration) -> ProbedObserver:
        self.probe = ProbedObserver(
            self.observer_factory(layout, camera, calib), self.heartbeat, self.last_status(), timing=self.timing
        )
        return self.probe

    def last_status(self) -> CameraStatus | None:
        """The camera's last reported health, or None before the first report."""
        return None if self.probe is None else self.probe.last_status

    @property
    def frames_seen(self) -> int:
        """Observations processed by this camera since the process started."""
        return self.frames_before + (self.worker.frames_seen if self.worker is not None else 0)

    @property
    def positions_sent(self) -> int:
        """Floor positions published for this camera since the process started."""
        return self.positions_before + (self.worker.positions_sent if self.worker is not None else 0)

    def run(self) -> None:
        """The thread: build, run until stopped; on failure report it, wait, rebuild."""
        backoff = Backoff(RESTART_S)
        while not self.stop.is_set():
            self.heartbeat.beat()
            try:
                self.worker = build_worker(
                    self.layout, self.camera_id, self.calib, self.publisher, self._probed_factory
                )
                self.worker.run(self.stop.is_set)
                return
            except Exception:  # one camera's failure must not take the others down
                log.exception("camera %s failed; rebuilding it", self.camera_id, extra={"camera": self.camera_id})
                self._report_failure()
            if self.worker is not None:
                self.frames_before += self.worker.frames_seen
                self.positions_before += self.worker.positions_sent
                self.worker = None
            self.restarts += 1
            delay_s = backoff.failed(time.monotonic())
            # Sleeping in slices keeps the loop's heartbeat, so a long backoff is not "stuck".
            deadline = time.monotonic() + delay_s
            while not self.stop.is_set() and time.monotonic() < deadline:
                self.heartbeat.beat()
                self.stop.wait(min(1.0, deadline - time.monotonic()))

    def _report_failure(self) -> None:
        status = CameraStatus(
            camera_id=self.camera_id,
            timestamp_s=time.time(),
            state="reconnecting",
            fps=0.0,
            last_frame_age_s=math.inf,
            error="worker_failed",  # the details stay in this process's log
        )
        if self.probe is not None:
            self.probe.last_status = status
        self.publisher.publish(encode_camera_status(self.layout.station.id, status))


def edge_metrics(runners: Iterable[CameraRunner]) -> list[Metric]:
    """Per-camera counters and health of an edge process."""
    runners = list(runners)
    frames = CounterMetricFamily("crowdmap_edge_frames", "Frames (observations) processed", labels=["camera"])
    positions = CounterMetricFamily("crowdmap_edge_positions", "Floor positions published", labels=["camera"])
    restarts = CounterMetricFamily("crowdmap_edge_worker_restarts", "Camera workers rebuilt after a failure",
                                   labels=["camera"])  # fmt: skip
    for runner in runners:
        frames.add_metric([runner.camera_id], runner.frames_seen)
        positions.add_metric([runner.camera_id], runner.positions_sent)
        restarts.add_metric([runner.camera_id], runner.restarts)
    detector = SummaryMetricFamily(
        "crowdmap_edge_detector_seconds", "Time from a camera's newest frame to its detections (count: frames)",
        labels=["camera"],
    )  # fmt: skip
    for runner in runners:
        detector.add_metric([runner.camera_id], count_value=runner.timing.frames, sum_value=runner.timing.seconds_total)
    recent = [(runner.camera_id, runner.timing.seconds_per_frame()) for runner in runners]
    statuses = [(runner.camera_id, runner.last_status()) for runner in runners]
    known = [(camera, status) for camera, status in statuses if status is not None]
    return [
        frames,
        positions,
        restarts,
        camera_state_metric("crowdmap_edge_camera_state", "1 for the camera's current state",
                            statuses),
        detector,
        labelled(GaugeMetricFamily, "crowdmap_edge_detector_seconds_per_frame",
                 f"Mean detector time of the camera's last {DETECTOR_TIMING_FRAMES} frames; above "
                 "crowdmap_edge_camera_frame_budget_seconds the camera cannot keep up", ["camera"],
                 [([camera], seconds) for camera, seconds in recent if seconds is not None]),
        labelled(GaugeMetricFamily, "crowdmap_edge_camera_frame_budget_seconds",
                 "Time one frame may take at the camera's target_fps (1 / target_fps)", ["camera"],
                 [([runner.camera_id], 1.0 / runner.layout.camera(runner.camera_id).target_fps) for runner in runners]),
        labelled(GaugeMetricFamily, "crowdmap_edge_camera_fps", "Frames per second the camera delivers", ["camera"],
                 [([camera], status.fps) for camera, status in known]),
        labelled(GaugeMetricFamily, "crowdmap_edge_camera_last_frame_age_seconds", "Seconds since the last good frame",
                 ["camera"], [([camera], min(status.last_frame_age_s, 1e9)) for camera, status in known]),
    ]  # fmt: skip


def shared_sim_epoch(url: str, station_id: str, now_s: float) -> float:
    """The start time of the demo simulation, the same for every edge process of a station.

    The first edge to start stores its clock in Redis; later ones (also restarted ones) read it,
    so all cameras watch one simulated crowd. Without Redis, this process's clock is used.
    """
    key = f"crowdmap:{station_id}:sim-epoch"
    client = connect(url)
    try:
        client.set(key, repr(now_s), nx=True, ex=SIM_EPOCH_TTL_S)
        stored = client.get(key)
        return float(stored) if stored is not None else now_s
    except REDIS_DOWN_ERRORS:
        log.warning("Redis is away; the simulation starts from this process's clock")
        return now_s
    finally:
        client.close()


@dataclass(frozen=True)
class EdgeOptions:
    """How to run some cameras of a station over Redis.

    Attributes:
        redis_url: The Redis the positions stream lives in.
        observer: Options of :func:`crowdmap.observers.make_observer_factory` (``video``,
            ``backend``, ``seed``); ``epoch_s`` is filled in for simulated cameras.
        sim_epoch_s: Start of the simulation, unix seconds; None shares one through Redis.
        maxlen: Approximate length of the positions stream.
        retention_s: Positions older than this leave the stream; it expires this long after the last one.
        buffer_messages: Messages kept while Redis is away.
    """

    redis_url: str
    observer: dict[str, Any] = field(default_factory=dict)
    sim_epoch_s: float | None = None
    maxlen: int = DEFAULT_POSITIONS_MAXLEN
    retention_s: float = DEFAULT_POSITIONS_RETENTION_S
    buffer_messages: int = DEFAULT_BUFFER_MESSAGES


def run_edge_process(
    station: Station, camera_ids: list[str], options: EdgeOptions, stop: threading.Event, start_ops: OpsStarter
) -> int:
    """Run the named cameras until ``stop`` is set."""
    from crowdmap.observers import make_observer_factory

    cameras = station.cameras(camera_ids)  # fails here, naming an unknown camera
    observer_options = {k: v for k, v in options.observer.items() if v is not None}
    if any(camera.source == "sim" for camera in cameras):
        epoch = options.sim_epoch_s
        observer_options["epoch_s"] = (
            epoch if epoch is not None else shared_sim_epoch(options.redis_url, station.id, time.time())
        )
    factory = make_observer_factory(observer_options)
    warn_if_persistent(options.redis_url, "the edge")

    publisher = RedisStreamPublisher(
        options.redis_url,
        positions_stream(station.id),
        maxlen=options.maxlen,
        retention_s=options.retention_s,
        buffer_messages=options.buffer_messages,
    )
    runners = [
        CameraRunner(station.layout, camera.id, station.calibrations[camera.id], publisher, factory, stop)
        for camera in cameras
    ]

    registry = CollectorRegistry(auto_describe=True)
    registry.register(FunctionCollector(lambda: [*edge_metrics(runners), *publisher_metrics(publisher, "edge")]))

    def ready() -> Check:
        states = {r.camera_id: (s.state if (s := r.last_status()) is not None else "starting") for r in runners}
        ok = publisher.link.connected and all(state == "live" for state in states.values())
        return Check(ok, {"redis": publisher.link.connected, "cameras": states, "buffered": publisher.buffered})

    ops = start_ops(registry, lambda: heartbeats_check(r.heartbeat for r in runners), ready)
    for runner in runners:
        runner.thread.start()
    log.info("edge running cameras %s", ", ".join(camera_ids))
    while not stop.wait(0.5):
        pass
    for runner in runners:
        runner.thread.join(10.0)
    publisher.close(timeout_s=2.0)
    if ops is not None:
        ops.stop()
    log.info("edge stopped (%d messages sent, %d dropped)", publisher.sent, publisher.dropped)
    return 0
