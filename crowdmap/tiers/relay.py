"""From the frames stream into a web process's hub, with one relay for all web processes.

Every web process reads the station's frames stream and hands each message to its
:class:`webmap.hub.Hub`, which validates it (PRIVACY.md P1) and updates what that process
serves over REST: the latest frame, alerts, trends, camera health.

Broadcasting is different. With Flask-SocketIO's Redis message queue, an emit by *any* web
process reaches the clients of *every* web process; if all N processes emitted each frame,
every client would get it N times. So the processes elect one relay with a Redis lease (a key
set with ``NX`` and a time-to-live, renewed while the holder lives): only the lease holder's
hub emits bus messages into the message queue. When the relay dies its lease runs out after
``ttl_s`` and another process takes over; clients connected to the survivors keep receiving.
Emits that do not come from the bus (an alert acknowledged by staff on this process) always go
through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client.core import Metric

from bus.redis_link import REDIS_DOWN_ERRORS
from bus.redis_subscribers import RedisStreamSubscriber
from crowdmap.tiers.ops import counter, gauge, subscriber_metrics

log = logging.getLogger(__name__)

DEFAULT_LEASE_TTL_S = 3.0

# Take the lease if free, extend it if ours; 1 when held afterwards, else 0. Atomic in Redis.
_ACQUIRE_OR_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def relay_lease_key(station_id: str) -> str:
    """The Redis key naming the web process that relays a station's frames."""
    return f"crowdmap:{station_id}:web-relay"


class RelayLease:
    """A Redis lease held by at most one web process at a time (per key).

    Held locally only until ``ttl_s`` minus a margin after the last successful renewal, so a
    process that loses Redis stops relaying before another one can take over.

    Args:
        client: Redis client.
        key: Lease key, e.g. :func:`relay_lease_key`.
        holder: This process's unique name.
        ttl_s: Lease lifetime; renew at least every ``ttl_s / 3``.
    """

    def __init__(
        self,
        client: Any,
        key: str,
        holder: str,
        *,
        ttl_s: float = DEFAULT_LEASE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0.3:
            raise ValueError(f"ttl_s must exceed 0.3 s, got {ttl_s}")
        self.client = client
        self.key = key
        self.holder = holder
        self.ttl_s = ttl_s
        self.clock = clock
        self.acquisitions = 0
        self._valid_until = float("-inf")
        self._acquire = client.register_script(_ACQUIRE_OR_RENEW)
        self._release = client.register_script(_RELEASE)

    def held(self) -> bool:
        """True while this process may relay."""
        return self.clock() < self._valid_until

    def renew(self) -> bool:
        """Take or extend the lease; False when another process holds it or Redis is away."""
        started = self.clock()
        try:
            got = bool(self._acquire(keys=[self.key], args=[self.holder, int(self.ttl_s * 1000)]))
        except REDIS_DOWN_ERRORS:
            got = False
        if got and not self.held():
            self.acquisitions += 1
            log.info("this web process now relays frames (%s)", self.key)
        elif not got and self.held():
            log.info("this web process no longer relays frames (%s)", self.key)
        # The margin covers the round trip and clock drift between this process and Redis.
        self._valid_until = started + self.ttl_s * 0.8 if got else float("-inf")
        return got

    def release(self) -> None:
        """Give the lease up now (clean shutdown), so another process takes over at once."""
        self._valid_until = float("-inf")
        try:
            self._release(keys=[self.key], args=[self.holder])
        except REDIS_DOWN_ERRORS:
            pass


class RelayGate:
    """An emitter in front of the hub's: bus-driven emits pass only while the lease is held.

    Args:
        inner: The real emitter (the app's ``socketio.Server``).
        lease: Decides whether this process relays.
    """

    def __init__(self, inner: Any, lease: RelayLease) -> None:
        self.inner = inner
        self.lease = lease
        self.suppressed = 0
        self.relayed = 0
        # Greenlet-local under gevent's monkey patching, thread-local otherwise.
        self._local = threading.local()

    @contextmanager
    def from_bus(self) -> Iterator[None]:
        """Marks the emits made inside the block as driven by a bus message."""
        self._local.from_bus = True
        try:
            yield
        finally:
            self._local.from_bus = False

    def emit(self, event: str, data: Any, namespace: str | None = None, to: str | None = None) -> None:
        """Forward to the real emitter unless another process relays this bus message."""
        if getattr(self._local, "from_bus", False):
            if not self.lease.held():
                self.suppressed += 1
                return
            self.relayed += 1
        self.inner.emit(event, data, namespace=namespace, to=to)


class FrameRelay:
    """Reads the frames stream into the hub; keeps the relay lease renewed.

    Args:
        hub: The web process's :class:`webmap.hub.Hub` (its ``receive`` validates).
        subscriber: Fan-out reader of the station's frames stream.
        gate: The hub's emitter, gating bus-driven emits on the lease.
    """

    def __init__(self, hub: Any, subscriber: RedisStreamSubscriber, gate: RelayGate) -> None:
        self.hub = hub
        self.subscriber = subscriber
        self.gate = gate
        self.errors = 0
        self.last_receive_s = float("-inf")

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Loop until ``should_stop()``; never raises (a bad message is dropped by the hub)."""
        lease = self.gate.lease
        next_renew = float("-inf")
        while not should_stop():
            now = time.monotonic()
            if now >= next_renew:
                lease.renew()
                next_renew = now + lease.ttl_s / 3
            self.last_receive_s = now
            raw = self.subscriber.receive(timeout_s=min(1.0, lease.ttl_s / 3))
            if raw is None:
                continue
            try:
                with self.gate.from_bus():
                    self.hub.receive(raw)
            except Exception:  # one bad message must never stop the web tier
                self.errors += 1
                log.exception("unexpected error while handling a frames-stream message; dropped")


def relay_metrics(relay: FrameRelay) -> list[Metric]:
    """What ``crowdmap serve`` adds to the web process's ``/metrics`` about its frames relay.

    Messages the hub refuses are counted by the hub (``crowdmap_web_messages_rejected_total``);
    these are the relay's own: its stream reader, the lease, and messages that failed in handling.
    """
    gate = relay.gate
    return [
        *subscriber_metrics(relay.subscriber, "serve"),
        gauge("crowdmap_web_relay_leader", "1 while this web process relays bus frames to all", None,
              1.0 if gate.lease.held() else 0.0),
        counter("crowdmap_web_relay_emits", "Bus-driven emits sent by this process", None, gate.relayed),
        counter("crowdmap_web_relay_suppressed", "Bus-driven emits left to the relay process", None, gate.suppressed),
        counter("crowdmap_web_relay_errors", "Frames-stream messages that failed while being handled (dropped)",
                None, relay.errors),
    ]  # fmt: skip
