"""Prometheus metrics of one web process, in a registry of its own (one per app, so tests stay independent).

Two views of them (issue 11 item 11):

- ``registry``: everything (camera states by id, logins, staff clients, and what the runtime
  adds: the bus, the relay). Served at ``/metrics`` to a logged-in staff user, and on the ops
  address of ``crowdmap serve --ops-port`` (localhost by default) for Prometheus.
- ``public_registry``: what anyone may read at ``/metrics``: counts of the public service only
  (frames accepted, messages refused by reason, public clients, broadcast time, slow-client
  drops, refused emits and bad packets on ``/public``); nothing about cameras, staff or logins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

# Family -> for each label, the values the public may see (None: the family has no label filter).
PUBLIC_FAMILIES: Mapping[str, Mapping[str, frozenset[str]] | None] = {
    "crowdmap_web_messages_received": {"type": frozenset({"icon_frames"})},
    "crowdmap_web_messages_rejected": None,
    "crowdmap_web_frames_dropped_slow_client": None,
    "crowdmap_web_clients": {"namespace": frozenset({"/public"})},
    "crowdmap_web_broadcast_seconds": None,
    "crowdmap_web_forged_events": {"namespace": frozenset({"/public"})},
    "crowdmap_web_malformed_packets": None,
    "crowdmap_web_emits_refused": {"namespace": frozenset({"/public"})},
}


class PublicView(Collector):
    """The samples of ``registry`` that :data:`PUBLIC_FAMILIES` allows, and nothing else.

    Args:
        registry: The full registry.
        allowed: Family names and, per label, the values that may be shown.
    """

    def __init__(self, registry: CollectorRegistry, allowed: Mapping[str, Mapping[str, frozenset[str]] | None]):
        self._registry = registry
        self._allowed = allowed

    def collect(self) -> Iterator[Metric]:
        """The allowed families, each with its allowed samples only."""
        for family in self._registry.collect():
            if family.name not in self._allowed:
                continue
            rule = self._allowed[family.name] or {}
            shown = Metric(family.name, family.documentation, family.type, family.unit)
            shown.samples = [
                sample
                for sample in family.samples
                if all(sample.labels.get(label) in values for label, values in rule.items())
            ]
            yield shown


class WebMetrics:
    """Counters and gauges exported at ``/metrics``.

    Attributes:
        registry: Every metric (staff and the ops address).
        public_registry: The anonymous view (see the module docstring).
        messages_received: Bus messages accepted, by type.
        messages_rejected: Bus messages refused (malformed, oversized, wrong type), by reason.
        frames_dropped: Crowding frames not sent to a client that was too slow to take them.
        clients: Connected Socket.IO clients, by namespace.
        logins: Login attempts, by outcome (ok, bad, limited).
        broadcast_seconds: Time to hand one station frame to every room.
        camera_live: 1 when a camera's last status said live, else 0.
        forged_events: Client-sent events named like the server's own (``connect``, ``disconnect``), ignored.
        malformed_packets: Engine.IO or Socket.IO packets from clients that could not be decoded, dropped.
        emits_refused: Socket.IO emits refused where they are sent (:mod:`webmap.emit_guard`), by
            namespace and reason.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.public_registry = CollectorRegistry(auto_describe=False)
        self.public_registry.register(PublicView(self.registry, PUBLIC_FAMILIES))
        self.messages_received = Counter(
            "crowdmap_web_messages_received", "Bus messages accepted by the web tier", ["type"], registry=self.registry
        )
        self.messages_rejected = Counter(
            "crowdmap_web_messages_rejected",
            "Bus messages refused by the web tier (PRIVACY.md P1)",
            ["reason"],
            registry=self.registry,
        )
        self.frames_dropped = Counter(
            "crowdmap_web_frames_dropped_slow_client",
            "Crowding frames skipped for clients whose send queue was full",
            registry=self.registry,
        )
        self.clients = Gauge(
            "crowdmap_web_clients", "Connected Socket.IO clients", ["namespace"], registry=self.registry
        )
        self.logins = Counter("crowdmap_web_logins", "Login attempts", ["outcome"], registry=self.registry)
        self.broadcast_seconds = Histogram(
            "crowdmap_web_broadcast_seconds",
            "Time to queue one station frame for every subscribed client",
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.forged_events = Counter(
            "crowdmap_web_forged_events",
            "Client-sent events named connect or disconnect, ignored",
            ["namespace", "event"],
            registry=self.registry,
        )
        self.malformed_packets = Counter(
            "crowdmap_web_malformed_packets",
            "Packets from Socket.IO clients that could not be decoded, dropped",
            registry=self.registry,
        )
        self.emits_refused = Counter(
            "crowdmap_web_emits_refused",
            "Socket.IO emits refused where they are sent, whatever their source (PRIVACY.md P1)",
            ["namespace", "reason"],
            registry=self.registry,
        )
        self.camera_live = Gauge(
            "crowdmap_web_camera_live", "1 if the camera reported live", ["station", "camera"], registry=self.registry
        )
