"""Operations endpoints of the edge and aggregator processes: ``/healthz``, ``/readyz``, ``/metrics``.

A tiny HTTP server on a configurable port, bound to localhost by default: the edge exposes
nothing to the public network (PRIVACY.md P5); a Prometheus agent on the same box, or a reverse
tunnel, scrapes it. (The web process serves its own ``/healthz`` and ``/metrics``.)

- ``/healthz`` (liveness): every loop of the process has beaten recently; a supervisor restarts
  the process when this fails.
- ``/readyz`` (readiness): it is doing its job, e.g. connected to Redis and its camera live.
- ``/metrics``: Prometheus text, read from the live counters at scrape time (collectors), so
  the hot loops never touch a metrics library.

Responses are small JSON documents of states and numbers, never positions or images.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from iconizer.types import CAMERA_STATES, CameraStatus

log = logging.getLogger(__name__)


@dataclass
class Heartbeat:
    """Proof of life of one loop: ``beat()`` every iteration, ``alive()`` for ``/healthz``.

    Attributes:
        name: The loop, e.g. ``camera concourse-west``.
        max_silence_s: How long the loop may stay silent before it counts as stuck.
    """

    name: str
    max_silence_s: float
    clock: Callable[[], float] = time.monotonic
    last_s: float = field(default=float("-inf"))

    def __post_init__(self) -> None:
        if self.max_silence_s <= 0:
            raise ValueError(f"max_silence_s must be positive, got {self.max_silence_s}")

    def beat(self) -> None:
        """Record that the loop just made progress."""
        self.last_s = self.clock()

    def silence_s(self) -> float:
        """Seconds since the last beat (infinity before the first)."""
        return self.clock() - self.last_s

    def alive(self) -> bool:
        """True when the loop beat within ``max_silence_s``."""
        return self.silence_s() <= self.max_silence_s


@dataclass(frozen=True)
class Check:
    """The outcome of a health or readiness check.

    Attributes:
        ok: Whether the check passed.
        detail: States and numbers explaining it (JSON-serialisable, impersonal).
    """

    ok: bool
    detail: dict[str, Any]


def heartbeats_check(heartbeats: Iterable[Heartbeat]) -> Check:
    """Liveness: all loops beat recently."""
    silence = {beat.name: round(min(beat.silence_s(), 1e9), 2) for beat in heartbeats}
    stuck = sorted(beat.name for beat in heartbeats if not beat.alive())
    return Check(ok=not stuck and bool(silence), detail={"silence_s": silence, "stuck": stuck})


class FunctionCollector(Collector):
    """A Prometheus collector that asks a function for its metric families at every scrape."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        """The families, computed now."""
        yield from self._collect()


def counter(name: str, documentation: str, labels: dict[str, str] | None, value: float) -> CounterMetricFamily:
    """One counter sample as a family (``name`` without the ``_total`` suffix)."""
    family = CounterMetricFamily(name, documentation, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def gauge(name: str, documentation: str, labels: dict[str, str] | None, value: float) -> GaugeMetricFamily:
    """One gauge sample as a family."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def labelled(
    kind: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    documentation: str,
    label_names: list[str],
    samples: Iterable[tuple[list[str], float]],
) -> Metric:
    """A family with one sample per label tuple."""
    family = kind(name, documentation, labels=label_names)
    for values, value in samples:
        family.add_metric(values, value)
    return family


# What every Redis publisher, stream reader and link reports: (family, name, help, attribute read at
# scrape time). One row per metric, so the three sets read side by side.
_Row = tuple[Callable[[str, str, dict[str, str] | None, float], Metric], str, str, str]
PUBLISHER_FAMILIES: tuple[_Row, ...] = (
    (counter, "crowdmap_bus_sent", "Messages appended to the Redis stream", "sent"),
    (counter, "crowdmap_bus_dropped", "Messages dropped because Redis was away too long (bounded buffer, oldest first)",
     "dropped"),
    (counter, "crowdmap_bus_refused",
     "Messages Redis refused (out of memory, no permission): dropped, the publisher goes on", "refused"),
    (gauge, "crowdmap_bus_buffered", "Messages waiting for Redis", "buffered"),
)  # fmt: skip
SUBSCRIBER_FAMILIES: tuple[_Row, ...] = (
    (counter, "crowdmap_bus_received", "Messages read from the Redis stream", "received"),
    (counter, "crowdmap_bus_malformed_entries",
     "Stream entries that were not crowdmap messages (skipped, never forwarded)", "malformed"),
    (counter, "crowdmap_bus_expired_entries",
     "Entries trimmed away by age before this reader acknowledged them (raw positions retention)", "expired"),
    (gauge, "crowdmap_bus_lag_seconds", "Age of the last message read, from Redis's timestamp in its entry id",
     "last_lag_s"),
)  # fmt: skip
LINK_FAMILIES: tuple[_Row, ...] = (
    (gauge, "crowdmap_bus_connected", "1 while the last Redis call succeeded", "connected"),
    (counter, "crowdmap_bus_reconnects", "Times the Redis link came back", "reconnects"),
    (counter, "crowdmap_bus_errors", "Redis calls failed because Redis was unreachable", "errors"),
)


def _families(source: Any, rows: Iterable[_Row], labels: dict[str, str]) -> list[Metric]:
    return [
        family(name, documentation, labels, float(getattr(source, attribute)))
        for family, name, documentation, attribute in rows
    ]


def publisher_metrics(publisher: Any, role: str) -> list[Metric]:
    """Counters of a :class:`bus.redis_publisher.RedisStreamPublisher` and its link."""
    labels = {"role": role, "stream": publisher.stream}
    return [*_families(publisher, PUBLISHER_FAMILIES, labels), *link_metrics(publisher.link, labels)]


def subscriber_metrics(subscriber: Any, role: str) -> list[Metric]:
    """Counters of a Redis stream subscriber (group or fan-out) and its link."""
    labels = {"role": role, "stream": subscriber.stream}
    return [*_families(subscriber, SUBSCRIBER_FAMILIES, labels), *link_metrics(subscriber.link, labels)]


def link_metrics(link: Any, labels: dict[str, str]) -> list[Metric]:
    """Connection state of one Redis link."""
    return _families(link, LINK_FAMILIES, labels)


def camera_state_metric(name: str, documentation: str, statuses: Iterable[tuple[str, CameraStatus | None]]) -> Metric:
    """One gauge per camera and state: 1 for the camera's last reported state, 0 for the others.

    Args:
        name: The family's name.
        documentation: Its help text.
        statuses: ``(camera id, its last status or None before the first)`` per camera.
    """
    family = GaugeMetricFamily(name, documentation, labels=["camera", "state"])
    for camera_id, status in statuses:
        for state in CAMERA_STATES:
            family.add_metric([camera_id, state], 1.0 if status is not None and status.state == state else 0.0)
    return family


class OpsServer:
    """Serves ``/healthz``, ``/readyz`` and ``/metrics`` from a daemon thread.

    Args:
        host: Address to bind; keep the default (localhost) unless a firewall guards the port.
        port: Port to bind; 0 picks a free one (read it back from :attr:`port`).
        registry: The Prometheus registry ``/metrics`` renders.
        health: Liveness check.
        ready: Readiness check.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        registry: CollectorRegistry,
        health: Callable[[], Check],
        ready: Callable[[], Check],
    ) -> None:
        self.registry = registry
        self._health = health
        self._ready = ready
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="ops http", daemon=True)

    def start(self) -> OpsServer:
        """Start serving; returns self."""
        self._thread.start()
        log.info("ops endpoints on http://%s:%d/ (healthz, readyz, metrics)", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                try:
                    if path == "/metrics":
                        self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.registry))
                    elif path in ("/healthz", "/readyz"):
                        check = (server._health if path == "/healthz" else server._ready)()
                        body = json.dumps({"ok": check.ok, **check.detail}, default=str).encode()
                        self._send(200 if check.ok else 503, "application/json", body)
                    else:
                        self._send(404, "application/json", b'{"error":"not found"}')
                except Exception:  # a failing probe must answer 500, not kill the server thread
                    log.exception("ops endpoint %s failed", path)
                    self._send(500, "application/json", b'{"error":"internal"}')

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # Scrapes every few seconds would flood the log; client addresses are not logged.
                pass

        return Handler


# Starts the ops server of a process from its registry and checks; returns None when ops are off.
OpsStarter = Callable[[CollectorRegistry, Callable[[], Check], Callable[[], Check]], "OpsServer | None"]
