"""The aggregator as a scale-out process: Redis in, Redis out, watched by ``/healthz`` and ``/metrics``.

``crowdmap aggregate`` parses its options and calls :func:`run_aggregate_process`. It reads the
positions stream through the consumer group ``aggregator`` (a restarted aggregator resumes from
the group), hands every message to :class:`crowdmap.tiers.aggregate.Aggregator`, and appends the
station's icon frames and camera health to the frames stream once per ``frame_interval_s``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bus.backoff import HEALTHY_AFTER_S, LOOP_RESTART_S, Backoff
from bus.redis_link import DEFAULT_FRAMES_MAXLEN, frames_stream, positions_stream, warn_if_persistent
from bus.redis_publisher import RedisStreamPublisher
from bus.redis_subscribers import RedisGroupSubscriber
from crowdmap.station import Station
from crowdmap.tiers.aggregate import Aggregator, Stepper
from crowdmap.tiers.edge import STATUS_INTERVAL_S
from crowdmap.tiers.ops import (
    Check,
    FunctionCollector,
    Heartbeat,
    OpsStarter,
    camera_state_metric,
    counter,
    gauge,
    heartbeats_check,
    labelled,
    publisher_metrics,
    subscriber_metrics,
)
from homography.types import FloorPositions
from iconizer.types import CameraStatus, IconFrame

log = logging.getLogger(__name__)

GROUP = "aggregator"
DEFAULT_EDGE_SILENCE_S = 3.0


@dataclass
class ProbedStepper:
    """The iconizer, watched: camera states, stale zones, the time of the last tick, silent edges.

    Wraps a :class:`crowdmap.tiers.aggregate.Stepper`. One thing it adds: an edge that went silent
    (killed, cut off) sends no "dead" status, and its positions would only age out after
    ``stale_after_s``. Every edge reports each camera once a second, so a camera not heard of
    for ``silence_s`` is reported ``dead`` to the iconizer at the next tick, and its zones turn
    stale within ``silence_s`` plus one tick. The edge's next real status supersedes it.
    """

    inner: Stepper
    heartbeat: Heartbeat
    silence_s: float = DEFAULT_EDGE_SILENCE_S
    clock: Callable[[], float] = time.monotonic
    cameras: dict[str, CameraStatus] = field(default_factory=dict)
    stale_zones: dict[str, int] = field(default_factory=dict)
    zones: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    silenced: set[str] = field(default_factory=set)
    _heard_s: dict[str, float] = field(default_factory=dict, repr=False)
    _edge_time_s: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.silence_s <= 2 * STATUS_INTERVAL_S:
            raise ValueError(
                f"silence_s must exceed twice the edges' status interval, {2 * STATUS_INTERVAL_S} s; "
                f"got {self.silence_s}"
            )

    def _heard(self, camera_id: str, edge_time_s: float) -> None:
        self._heard_s[camera_id] = self.clock()
        self._edge_time_s[camera_id] = max(edge_time_s, self._edge_time_s.get(camera_id, edge_time_s))
        self.silenced.discard(camera_id)

    def ingest(self, positions: FloorPositions) -> None:
        """Hand positions to the iconizer."""
        self.inner.ingest(positions)
        self._heard(positions.camera_id, positions.timestamp_s)

    def update_camera(self, status: CameraStatus) -> None:
        """Hand a camera's health to the iconizer, remembering it for the metrics."""
        self.inner.update_camera(status)
        self.cameras[status.camera_id] = status
        self._heard(status.camera_id, status.timestamp_s)

    def _report_silent_edges(self) -> None:
        now = self.clock()
        for camera_id, heard_s in self._heard_s.items():
            if camera_id in self.silenced or now - heard_s <= self.silence_s:
                continue
            # Stamped just after the edge's last message (its clock), so its next status wins.
            status = CameraStatus(camera_id, self._edge_time_s[camera_id] + 1e-3, "dead", 0.0, math.inf, "edge_silent")
            self.inner.update_camera(status)
            self.cameras[camera_id] = status
            self.silenced.add(camera_id)
            log.warning("camera %s: no message from its edge for %.1f s; its zones are stale", camera_id,
                        now - heard_s, extra={"camera": camera_id})  # fmt: skip

    def step(self, now_s: float) -> list[IconFrame]:
        """One tick of the iconizer; beats the heartbeat and counts stale zones per floor."""
        self._report_silent_edges()
        frames = self.inner.step(now_s)
        self.steps += 1
        self.heartbeat.beat()
        for frame in frames:
            self.zones[frame.floor_id] = len(frame.zones)
            self.stale_zones[frame.floor_id] = sum(zone.stale for zone in frame.zones)
        return frames


def aggregator_metrics(aggregator: Aggregator, stepper: ProbedStepper, subscriber: RedisGroupSubscriber,
                       loop_errors: Callable[[], int]) -> list[Metric]:  # fmt: skip
    """Counters and health of an aggregator process (read at scrape time)."""
    rejected = CounterMetricFamily(
        "crowdmap_aggregator_messages_rejected",
        "Bus messages refused: malformed, wrong schema, oversized, unknown camera or station (never forwarded)",
        labels=["reason"],
    )
    for reason, count in sorted(aggregator.rejected.items()):
        rejected.add_metric([reason], count)
    rejected.add_metric(["not_a_crowdmap_entry"], subscriber.malformed)
    state = camera_state_metric(
        "crowdmap_aggregator_camera_state", "1 for each camera's last reported state",
        [(camera.id, stepper.cameras.get(camera.id)) for camera in aggregator.layout.cameras],
    )  # fmt: skip
    group_lag = subscriber.group_lag()
    pending = subscriber.pending_count()
    metrics: list[Metric] = [
        counter("crowdmap_aggregator_messages_received", "Bus messages read from the positions stream", None,
                aggregator.received),
        rejected,
        counter("crowdmap_aggregator_frames_published", "Station frames published", None, aggregator.frames_published),
        counter("crowdmap_aggregator_loop_errors", "Aggregator loop failures (restarted)", None, loop_errors()),
        counter("crowdmap_aggregator_redelivered", "Entries delivered again after a restart (consumer group)", None,
                subscriber.redelivered),
        state,
        labelled(GaugeMetricFamily, "crowdmap_aggregator_zones_stale", "Zones without a live camera, per floor",
                 ["floor"], [([floor], count) for floor, count in stepper.stale_zones.items()]),
        labelled(GaugeMetricFamily, "crowdmap_aggregator_zones", "Zones per floor", ["floor"],
                 [([floor], count) for floor, count in stepper.zones.items()]),
    ]  # fmt: skip
    if group_lag is not None:
        metrics.append(gauge("crowdmap_aggregator_group_lag_entries",
                             "Entries in the positions stream not yet read by the group", None, group_lag))  # fmt: skip
    if pending is not None:
        metrics.append(gauge("crowdmap_aggregator_group_pending_entries",
                             "Entries read but not yet acknowledged", None, pending))  # fmt: skip
    return metrics


@dataclass(frozen=True)
class AggregateOptions:
    """How to run a station's aggregator over Redis.

    Attributes:
        redis_url: The Redis both streams live in.
        consumer: This consumer's name in the group; keep it across restarts.
        history_url: History store, or None for none.
        edge_silence_s: A camera not heard of for this long is reported dead.
        frames_maxlen: Approximate length of the frames stream.
    """

    redis_url: str
    consumer: str = "aggregator-1"
    history_url: str | None = None
    edge_silence_s: float = DEFAULT_EDGE_SILENCE_S
    frames_maxlen: int = DEFAULT_FRAMES_MAXLEN


def run_aggregate_process(
    station: Station, options: AggregateOptions, stop: threading.Event, start_ops: OpsStarter
) -> int:
    """Run the aggregator until ``stop`` is set; a failing loop is restarted with backoff."""
    from crowdmap.wiring import build_aggregator

    warn_if_persistent(options.redis_url, "the aggregator")
    publisher = RedisStreamPublisher(options.redis_url, frames_stream(station.id), maxlen=options.frames_maxlen)
    subscriber = RedisGroupSubscriber(
        options.redis_url, positions_stream(station.id), group=GROUP, consumer=options.consumer
    )
    aggregator = build_aggregator(station, publisher, history_url=options.history_url)
    interval_s = station.layout.publishing.frame_interval_s
    stepper = ProbedStepper(
        aggregator.iconizer, Heartbeat("aggregator tick", max(10.0, 5 * interval_s)), silence_s=options.edge_silence_s
    )
    aggregator.iconizer = stepper
    errors = {"loop": 0}

    registry = CollectorRegistry(auto_describe=True)
    registry.register(
        FunctionCollector(
            lambda: [
                *aggregator_metrics(aggregator, stepper, subscriber, lambda: errors["loop"]),
                *subscriber_metrics(subscriber, "aggregate"),
                *publisher_metrics(publisher, "aggregate"),
            ]
        )
    )

    def ready() -> Check:
        ok = subscriber.link.connected and publisher.link.connected and stepper.steps > 0
        live = sorted(c for c, s in stepper.cameras.items() if s.is_live)
        return Check(ok, {"redis": subscriber.link.connected and publisher.link.connected, "ticks": stepper.steps,
                          "live_cameras": live, "cameras": len(aggregator.layout.cameras)})  # fmt: skip

    ops = start_ops(registry, lambda: heartbeats_check([stepper.heartbeat]), ready)
    log.info("aggregator running (group %s, consumer %s)", GROUP, options.consumer)
    # A crash after a healthy minute waits the shortest time again, not the longest of an old outage.
    backoff = Backoff(LOOP_RESTART_S, reset_after_s=HEALTHY_AFTER_S)
    while not stop.is_set():
        try:
            aggregator.run(subscriber, stop.is_set)
        except Exception:  # e.g. a message the iconizer cannot take: it is acknowledged and skipped
            errors["loop"] += 1
            log.exception("aggregator loop failed; restarting it")
            stop.wait(backoff.failed(time.monotonic()))
    publisher.close(timeout_s=2.0)
    subscriber.close()
    if ops is not None:
        ops.stop()
    log.info("aggregator stopped after %d frames", aggregator.frames_published)
    return 0
