"""Prometheus metrics of one web process, in a registry of its own (one per app, so tests stay independent)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class WebMetrics:
    """Counters and gauges exported at ``/metrics``.

    Attributes:
        registry: The registry ``/metrics`` renders.
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
