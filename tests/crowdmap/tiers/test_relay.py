"""The web relay: frames stream -> hub, with bus-driven emits only from the lease holder."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from bus.codec import encode_station_frames
from bus.redis_link import frames_stream
from bus.redis_publisher import RedisStreamPublisher
from bus.redis_subscribers import RedisStreamSubscriber
from crowdmap.station import load_station
from crowdmap.tiers.relay import FrameRelay, RelayGate, RelayLease, relay_lease_key, relay_metrics
from iconizer.stepper import Iconizer
from webmap.hub import Hub
from webmap.metrics import WebMetrics
from webmap.payload import broadcast_targets
from webmap.store import MemoryLatestStore

pytestmark = pytest.mark.redis

URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[3]
LAYOUT = load_station(str(ROOT / "station_layouts" / "pets2009")).layout


@dataclass
class Recorder:
    """Stands where the Socket.IO server receives the hub's emits, and keeps them."""

    events: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def emit(self, event: str, data: Any, namespace: str | None = None, to: str | None = None) -> None:
        self.events.append((event, namespace, to))


@pytest.fixture
def station_id(client) -> Iterator[str]:
    """A station id of this test alone, so its streams and lease are its own."""
    sid = f"relay-{uuid.uuid4().hex[:10]}"
    yield sid
    client.delete(frames_stream(sid), relay_lease_key(sid))


def frame_bytes(station_id: str, timestamp_s: float) -> bytes:
    iconizer = Iconizer(LAYOUT, rng=np.random.default_rng(0), coarsen_m=0.0)
    return encode_station_frames(LAYOUT.station.id, iconizer.step(timestamp_s), timestamp_s).replace(
        f'"station":"{LAYOUT.station.id}"'.encode(), f'"station":"{station_id}"'.encode()
    )


def web_process(client: redis.Redis, station_id: str, holder: str) -> tuple[Hub, Recorder, RelayGate, FrameRelay]:
    layout = LAYOUT.model_copy(update={"station": LAYOUT.station.model_copy(update={"id": station_id})})
    recorder = Recorder()
    lease = RelayLease(client, relay_lease_key(station_id), holder, ttl_s=3.0)
    gate = RelayGate(recorder, lease)
    hub = Hub([layout], MemoryLatestStore(), gate, WebMetrics())
    return hub, recorder, gate, FrameRelay(hub, RedisStreamSubscriber(URL, frames_stream(station_id)), gate)


def run_until(relay: FrameRelay, condition) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(lambda: stop.is_set() or condition(),), daemon=True)
    thread.start()
    thread.join(60)
    stop.set()
    assert not thread.is_alive(), "the relay loop did not finish"


def test_both_web_processes_take_every_frame_but_only_the_lease_holder_emits_it(client, station_id):
    first = web_process(client, station_id, "web-1")
    second = web_process(client, station_id, "web-2")
    assert first[2].lease.renew()  # web-1 relays
    publisher = RedisStreamPublisher(URL, frames_stream(station_id), maxlen=100)
    for timestamp_s in (1000.0, 1001.0, 1002.0):
        publisher.publish(frame_bytes(station_id, timestamp_s))
    assert publisher.flush(timeout_s=10.0)
    publisher.close()

    for hub, _, _, relay in (first, second):
        run_until(relay, lambda hub=hub: (hub.store.get(station_id) or {}).get("timestamp") == 1002.0)
    # Both keep the latest frame for REST; only web-1 put frames into the message queue.
    assert first[0].store.get(station_id)["timestamp"] == 1002.0
    assert second[0].store.get(station_id)["timestamp"] == 1002.0
    assert {event for event, _, _ in first[1].events} == {"crowding"}
    assert second[1].events == []
    assert first[2].relayed > 0 and first[2].suppressed == 0
    assert second[2].suppressed == first[2].relayed and second[2].relayed == 0


def test_emits_that_do_not_come_from_the_bus_always_pass(client, station_id):
    _, recorder, gate, _ = web_process(client, station_id, "web-2")
    assert not gate.lease.held()
    gate.emit("alert", {"id": 1}, namespace="/staff", to=station_id)  # e.g. staff acknowledged an alert here
    assert recorder.events == [("alert", "/staff", station_id)]


def test_garbage_on_the_frames_stream_is_dropped_by_the_hub_and_never_emitted(client, station_id):
    hub, recorder, gate, relay = web_process(client, station_id, "web-1")
    assert gate.lease.renew()
    assert relay.subscriber.receive(timeout_s=0.05) is None  # reading from here on
    for raw in (b"\xff\xd8\xff\xe0 not a frame", b'{"type":"icon_frames"}', b"[]"):
        client.xadd(frames_stream(station_id), {b"m": raw})
    client.xadd(frames_stream(station_id), {b"m": frame_bytes(station_id, 1000.0)})
    run_until(relay, lambda: hub.store.get(station_id) is not None)
    assert hub.metrics.messages_rejected.labels(reason="invalid")._value.get() == 3
    # One frame: its public rooms (station and floor, each encoding), the staff namespace; no garbage.
    assert {event for event, _, _ in recorder.events} == {"crowding"}
    public_rooms = len(broadcast_targets(hub.store.get(station_id)))
    assert public_rooms == 4, "station + one floor, JSON and compact"
    assert len(recorder.events) == gate.relayed == public_rooms + 1
    assert relay.errors == 0


@dataclass
class DownQueue:
    """Stands where the Socket.IO server publishes to its Redis message queue, while that Redis is down."""

    def emit(self, event: str, data: Any, namespace: str | None = None, to: str | None = None) -> None:
        raise redis.ConnectionError("Error 111 connecting to 10.0.0.5:6379. Connection refused.")


def metric_values(metrics) -> dict[str, float]:
    return {sample.name: sample.value for family in metrics for sample in family.samples}


def test_messages_that_fail_in_the_relay_are_counted_in_metrics_and_the_relay_goes_on(client, station_id):
    hub, _, gate, relay = web_process(client, station_id, "web-1")
    gate.inner = DownQueue()
    assert gate.lease.renew()
    assert relay.subscriber.receive(timeout_s=0.05) is None
    for timestamp_s in (1000.0, 1001.0):
        client.xadd(frames_stream(station_id), {b"m": frame_bytes(station_id, timestamp_s)})
    run_until(relay, lambda: relay.errors >= 2)
    values = metric_values(relay_metrics(relay))
    assert values["crowdmap_web_relay_errors_total"] == 2
    assert values["crowdmap_web_relay_leader"] == 1.0
    assert hub.store.get(station_id)["timestamp"] == 1001.0  # REST still has the newest frame
